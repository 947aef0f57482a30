/* Host stand-in: the parts of Adafruit's Bluefruit52Lib the sketch uses (see Arduino.h here). */
#ifndef IKP_STUB_BLUEFRUIT_H
#define IKP_STUB_BLUEFRUIT_H
#include "Arduino.h"
#define BLE_CONN_HANDLE_INVALID 0xFFFF
#define BANDWIDTH_MAX 4
#define BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE 0x06
#define BLE_GAP_PHY_AUTO 0
enum CharsProperties { CHR_PROPS_WRITE = 0x08, CHR_PROPS_NOTIFY = 0x10 };
typedef enum { SECMODE_NO_ACCESS = 0x00, SECMODE_OPEN = 0x11 } SecureMode_t;
struct ble_gap_data_length_params_t;
struct ble_gap_data_length_limitation_t;

class BLEUuid {
  public:
    BLEUuid(uint8_t const uuid128[16]);
};
class BLEService {
  public:
    BLEService(BLEUuid uuid);
    int begin(void);
};
class BLECharacteristic {
  public:
    typedef void (*write_cb_t)(uint16_t conn_hdl, BLECharacteristic *chr, uint8_t *data, uint16_t len);
    BLECharacteristic(BLEUuid uuid);
    void setProperties(uint8_t prop);
    void setPermission(SecureMode_t read_perm, SecureMode_t write_perm);
    void setMaxLen(uint16_t max_len);
    void setWriteCallback(write_cb_t fp, bool useAdaCallback = true);
    int begin(void);
    bool notify(uint16_t conn_hdl, const void *data, uint16_t len);
};
class BLEConnection {
  public:
    uint16_t getMtu(void);
    bool requestDataLengthUpdate(ble_gap_data_length_params_t const *p = NULL,
                                 ble_gap_data_length_limitation_t *l = NULL);
    bool requestMtuExchange(uint16_t mtu);
    bool requestPHY(uint8_t phy = BLE_GAP_PHY_AUTO);
    bool requestConnectionParameter(uint16_t conn_interval, uint16_t slave_latency = 0,
                                    uint16_t sup_timeout = 400);
};
class BLEPeriphStub {
  public:
    bool setConnInterval(uint16_t min, uint16_t max);
    void setConnectCallback(void (*fp)(uint16_t conn_hdl));
    void setDisconnectCallback(void (*fp)(uint16_t conn_hdl, uint8_t reason));
};
class BLEAdvertisingStub {
  public:
    bool addFlags(uint8_t flags);
    bool addTxPower(void);
    bool addService(BLEService &service);
    bool addName(void);
    void restartOnDisconnect(bool enable);
    void setInterval(uint16_t fast, uint16_t slow);
    void setFastTimeout(uint16_t seconds);
    bool start(uint16_t timeout);
};
class AdafruitBluefruitStub {
  public:
    void configPrphBandwidth(uint8_t bw);
    bool begin(uint8_t prph_count = 1, uint8_t central_count = 0);
    bool setTxPower(int8_t power);
    void setName(const char *name);
    BLEConnection *Connection(uint16_t conn_hdl);
    BLEPeriphStub Periph;
    BLEAdvertisingStub Advertising;
    BLEAdvertisingStub ScanResponse;
};
extern AdafruitBluefruitStub Bluefruit;
#endif
