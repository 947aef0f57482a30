/* Host stand-in: the TwoWire interface of the Adafruit nRF52 core (see Arduino.h here). */
#ifndef IKP_STUB_WIRE_H
#define IKP_STUB_WIRE_H
#include "Arduino.h"
class TwoWire {
  public:
    void begin();
    void setClock(uint32_t);
    void beginTransmission(uint8_t);
    uint8_t endTransmission(bool stopBit);
    uint8_t endTransmission(void);
    uint8_t requestFrom(uint8_t address, size_t quantity, bool stopBit);
    uint8_t requestFrom(uint8_t address, size_t quantity);
    size_t write(uint8_t data);
    int read(void);
};
extern TwoWire Wire1;
#endif
