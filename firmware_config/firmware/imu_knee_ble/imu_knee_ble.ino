/*
 * imu_knee_ble.ino - open reference firmware for imu-knee's BLE sensor protocol, version 1
 * (firmware_config/imu_knee_protocol.md), for the Seeed Studio XIAO nRF52840 Sense.
 *
 * NOT COMPILED IN CI: no Arduino toolchain is available there. All packet packing, scale
 * conversion, control parsing and buffering lives in imu_knee_packet.h, which CI compiles
 * with g++ and gcc and checks against the Python decoder (tests/test_firmware_packet.py).
 * This file only glues that header to the board: IMU registers, a hardware timer, BLE.
 *
 * Board package: "Seeed nRF52 Boards" (FQBN Seeeduino:nrf52:xiaonRF52840Sense, the non-mbed
 * core built on Adafruit's nRF52 core); BLE library: Adafruit Bluefruit (bluefruit.h, part of
 * that core). No other library is needed: the LSM6DS3TR-C is driven through its registers.
 * Build and flash: see ../README.md.
 *
 * How it works:
 *   - TIMER3 counts microseconds from boot (32 bits, wraps every 71.6 min): the device
 *     clock. Its compare channel 0 fires once per sample period; the interrupt hands the
 *     scheduled time to a sampler task, so sample times are exact multiples of the period.
 *   - The sampler task reads the newest IMU output (the IMU runs 2-4 times faster than the
 *     stream), converts it to wire counts and pushes it into a ring buffer.
 *   - loop() moves samples from the ring into a packet (batch packets when the ATT MTU
 *     allows, 20-byte single-sample packets at MTU 23) and notifies it when full. A packet
 *     that cannot be sent yet stays and is retried; the ring keeps filling meanwhile, and if
 *     it overflows the newest samples are dropped (the gap shows as a new packet's start time).
 *   - The control characteristic takes 01 configure / 02 start / 03 stop; invalid writes
 *     are ignored (and logged on the USB serial port).
 */
#include <Arduino.h>
#include <Wire.h>
#include <bluefruit.h>

#include "imu_knee_packet.h" /* the protocol logic; CI compiles and tests it on the host */

/* ------------------------------------------------------------------ build options */
#ifndef IKB_USE_LEDS
#define IKB_USE_LEDS 1        /* blue: connected, green: streaming (about 1 mA each) */
#endif
#ifndef IKB_TX_POWER_DBM
#define IKB_TX_POWER_DBM 0    /* 0 dBm reaches across a room; +4 or +8 for more range */
#endif
#ifndef IKB_LOG_PERIOD_MS
#define IKB_LOG_PERIOD_MS 5000u /* statistics on the USB serial port while streaming */
#endif
#define IKB_SETTLE_US 100000u /* first sample this long after start: gyro turn-on time */

#if !defined(PIN_WIRE1_SDA) || !defined(PIN_LSM6DS3TR_C_POWER) || WIRE_INTERFACES_COUNT < 2
#error "Select the board 'Seeed XIAO nRF52840 Sense' of the 'Seeed nRF52 Boards' package (non-mbed)."
#endif

/* ------------------------------------------------------------------ GATT (UUIDs LSB first) */
/* 02630001-5cc5-4910-83c0-657a8b17e6ae, ...0002..., ...0003... (IKP_*_UUID in the header) */
static const uint8_t kServiceUuid[16] = {0xae, 0xe6, 0x17, 0x8b, 0x7a, 0x65, 0xc0, 0x83,
                                         0x10, 0x49, 0xc5, 0x5c, 0x01, 0x00, 0x63, 0x02};
static const uint8_t kDataUuid[16] = {0xae, 0xe6, 0x17, 0x8b, 0x7a, 0x65, 0xc0, 0x83,
                                      0x10, 0x49, 0xc5, 0x5c, 0x02, 0x00, 0x63, 0x02};
static const uint8_t kControlUuid[16] = {0xae, 0xe6, 0x17, 0x8b, 0x7a, 0x65, 0xc0, 0x83,
                                         0x10, 0x49, 0xc5, 0x5c, 0x03, 0x00, 0x63, 0x02};

BLEService imuService(kServiceUuid);
BLECharacteristic dataChar(kDataUuid);
BLECharacteristic controlChar(kControlUuid);

/* ------------------------------------------------------------------ LSM6DS3TR-C registers */
static const uint8_t IMU_ADDR = 0x6A;
static const uint8_t REG_WHO_AM_I = 0x0F; /* reads 0x6A */
static const uint8_t REG_CTRL1_XL = 0x10; /* ODR_XL[7:4] FS_XL[3:2] */
static const uint8_t REG_CTRL2_G = 0x11;  /* ODR_G[7:4] FS_G[3:2] FS_125[1] */
static const uint8_t REG_CTRL3_C = 0x12;  /* BDU[6] IF_INC[2] SW_RESET[0] */
static const uint8_t REG_OUTX_L_G = 0x22; /* gyro x, y, z then acc x, y, z: 12 bytes */

/* protocol acc code (2, 4, 8, 16 g) -> FS_XL bits; datasheet sensitivity in g per LSB */
static const uint8_t kAccFsBits[4] = {0x00, 0x08, 0x0C, 0x04};
static const float kAccGPerLsb[4] = {0.061e-3f, 0.122e-3f, 0.244e-3f, 0.488e-3f};
/* protocol gyro code (125, 250, 500, 1000, 2000 deg/s) -> FS bits; deg/s per LSB.
 * The chip's "250" range is 245 deg/s nominal: the sensitivity handles it. */
static const uint8_t kGyrFsBits[5] = {0x02, 0x00, 0x04, 0x08, 0x0C};
static const float kGyrDpsPerLsb[5] = {4.375e-3f, 8.75e-3f, 17.5e-3f, 35.0e-3f, 70.0e-3f};

/* IMU output data rate for a stream rate: the sensor runs 2-8x faster than we sample, so
 * the newest output is at most one IMU period (0.6-9.6 ms) old when read. */
static uint8_t imuOdrBits(uint16_t rate_hz)
{
    switch (rate_hz) {
    case 25: return 0x40;  /* 104 Hz */
    case 50: return 0x50;  /* 208 Hz */
    case 100: return 0x60; /* 416 Hz */
    case 200: return 0x70; /* 833 Hz */
    default: return 0x80;  /* 1.66 kHz for 400 and 800 Hz */
    }
}

/* ------------------------------------------------------------------ shared state */
static ikp_ring_t ring;          /* sampler task -> loop(); guarded by a critical section */
static ikp_batch_t batch;        /* loop() only */
static ikp_config_t config;      /* applied at start */
static ikp_config_t active;      /* what is streaming now */
static QueueHandle_t tickQueue;  /* timer interrupt -> sampler task: scheduled times */
static SemaphoreHandle_t wakeLoop;
static TaskHandle_t samplerTask;

static volatile uint16_t connHandle = BLE_CONN_HANDLE_INVALID;
static volatile bool streaming = false;
static volatile uint32_t periodUs = 5000;
static volatile uint8_t accCode = 3, gyrCode = 4;

/* commands from the BLE callbacks, applied by loop() in the order they arrived */
static const uint8_t CMD_DISCONNECTED = 0x80;
struct Command {
    uint8_t kind; /* IKP_CONTROL_CONFIGURE / _START / _STOP or CMD_DISCONNECTED */
    ikp_config_t config;
};
static QueueHandle_t commandQueue;

struct Stats {
    volatile uint32_t ticksMissed;  /* timer ticks the sampler could not take */
    volatile uint32_t readErrors;   /* I2C reads that failed */
    uint32_t packetsSent;
    uint32_t sendRetries;
};
static Stats stats;

static void statsReset(void)
{
    stats.ticksMissed = 0;
    stats.readErrors = 0;
    stats.packetsSent = 0;
    stats.sendRetries = 0;
}

/* ------------------------------------------------------------------ device clock: TIMER3 */
/* CC[0]: next sample time; CC[1]: captures for tasks; CC[2]: captures inside the interrupt
 * (separate channels, so an interrupt between a task's capture and read cannot change it) */
static uint32_t deviceTimeUs(void)
{
    NRF_TIMER3->TASKS_CAPTURE[1] = 1;
    return NRF_TIMER3->CC[1];
}

static uint32_t deviceTimeUsFromIsr(void)
{
    NRF_TIMER3->TASKS_CAPTURE[2] = 1;
    return NRF_TIMER3->CC[2];
}

static void clockBegin(void)
{
    NRF_TIMER3->TASKS_STOP = 1;
    NRF_TIMER3->MODE = TIMER_MODE_MODE_Timer;
    NRF_TIMER3->BITMODE = TIMER_BITMODE_BITMODE_32Bit;
    NRF_TIMER3->PRESCALER = 4; /* 16 MHz / 2^4 = 1 MHz: one count per microsecond */
    NRF_TIMER3->INTENCLR = 0xFFFFFFFFu;
    NRF_TIMER3->TASKS_CLEAR = 1;
    NRF_TIMER3->TASKS_START = 1;
    NVIC_SetPriority(TIMER3_IRQn, 3); /* an application priority the SoftDevice allows */
    NVIC_ClearPendingIRQ(TIMER3_IRQn);
    NVIC_EnableIRQ(TIMER3_IRQn);
}

static void samplingStart(uint32_t first_us)
{
    NRF_TIMER3->EVENTS_COMPARE[0] = 0;
    NRF_TIMER3->CC[0] = first_us;
    NRF_TIMER3->INTENSET = TIMER_INTENSET_COMPARE0_Msk;
}

static void samplingStop(void)
{
    NRF_TIMER3->INTENCLR = TIMER_INTENCLR_COMPARE0_Msk;
    NRF_TIMER3->EVENTS_COMPARE[0] = 0;
}

extern "C" void TIMER3_IRQHandler(void)
{
    if (NRF_TIMER3->EVENTS_COMPARE[0] == 0) {
        return;
    }
    NRF_TIMER3->EVENTS_COMPARE[0] = 0;
    (void)NRF_TIMER3->EVENTS_COMPARE[0]; /* flush the write before leaving the handler */
    uint32_t due = NRF_TIMER3->CC[0];
    uint32_t next = due + periodUs;
    /* if this interrupt ran late by a whole period, skip the ticks already past (they show
     * as a gap) instead of waiting a full 2^32 us wrap for the compare to match again */
    while ((int32_t)(deviceTimeUsFromIsr() - next) >= 0) {
        next += periodUs;
        stats.ticksMissed = stats.ticksMissed + 1u;
    }
    NRF_TIMER3->CC[0] = next;
    BaseType_t woken = pdFALSE;
    if (xQueueSendFromISR(tickQueue, &due, &woken) != pdTRUE) {
        stats.ticksMissed = stats.ticksMissed + 1u; /* sampler task is behind: lose this one */
    }
    portYIELD_FROM_ISR(woken);
}

/* ------------------------------------------------------------------ IMU over Wire1 */
/* Wire1 is used by the sampler task while streaming and by loop() only while the sample
 * timer is off (start/stop): the sampler runs at a higher priority, so any tick still queued
 * is read before loop() touches the bus again. */
static bool imuWrite(uint8_t reg, uint8_t value)
{
    Wire1.beginTransmission(IMU_ADDR);
    Wire1.write(reg);
    Wire1.write(value);
    return Wire1.endTransmission() == 0;
}

static bool imuRead(uint8_t reg, uint8_t *buf, uint8_t len)
{
    Wire1.beginTransmission(IMU_ADDR);
    Wire1.write(reg);
    if (Wire1.endTransmission(false) != 0) {
        return false;
    }
    if (Wire1.requestFrom(IMU_ADDR, len) != len) {
        return false;
    }
    for (uint8_t i = 0; i < len; ++i) {
        buf[i] = (uint8_t)Wire1.read();
    }
    return true;
}

static void imuPowerOn(void)
{
    /* The Sense powers the IMU from a GPIO: drive it high with high drive strength. */
    uint32_t pin = g_ADigitalPinMap[PIN_LSM6DS3TR_C_POWER];
    NRF_GPIO_Type *port = (pin >= 32u) ? NRF_P1 : NRF_P0;
    port->PIN_CNF[pin & 31u] = (GPIO_PIN_CNF_DIR_Output << GPIO_PIN_CNF_DIR_Pos) |
                               (GPIO_PIN_CNF_INPUT_Disconnect << GPIO_PIN_CNF_INPUT_Pos) |
                               (GPIO_PIN_CNF_PULL_Disabled << GPIO_PIN_CNF_PULL_Pos) |
                               (GPIO_PIN_CNF_DRIVE_H0H1 << GPIO_PIN_CNF_DRIVE_Pos);
    port->OUTSET = 1u << (pin & 31u);
    delay(20);
}

static bool imuBegin(void)
{
    imuPowerOn();
    Wire1.begin();
    Wire1.setClock(400000);
    uint8_t who = 0;
    if (!imuRead(REG_WHO_AM_I, &who, 1) || who != 0x6A) {
        Serial.printf("imu-knee: LSM6DS3TR-C not found (WHO_AM_I 0x%02x)\n", who);
        return false;
    }
    imuWrite(REG_CTRL3_C, 0x01); /* software reset */
    delay(10);
    imuWrite(REG_CTRL3_C, 0x44); /* block data update, register auto-increment */
    imuWrite(REG_CTRL1_XL, 0x00); /* both sensors powered down until start */
    imuWrite(REG_CTRL2_G, 0x00);
    return true;
}

static bool imuConfigure(const ikp_config_t &c)
{
    uint8_t odr = imuOdrBits(c.rate_hz);
    return imuWrite(REG_CTRL1_XL, (uint8_t)(odr | kAccFsBits[c.acc_code])) &&
           imuWrite(REG_CTRL2_G, (uint8_t)(odr | kGyrFsBits[c.gyr_code]));
}

static void imuSleep(void)
{
    imuWrite(REG_CTRL1_XL, 0x00);
    imuWrite(REG_CTRL2_G, 0x00);
}

static int16_t le16(const uint8_t *p)
{
    int32_t v = (int32_t)p[0] | ((int32_t)p[1] << 8);
    return (int16_t)(v >= 32768 ? v - 65536 : v);
}

/* Sampler task: one IMU read per timer tick, converted to wire counts, into the ring. */
static void samplerLoop(void *)
{
    for (;;) {
        uint32_t due;
        if (xQueueReceive(tickQueue, &due, portMAX_DELAY) != pdTRUE) {
            continue;
        }
        uint8_t raw[12];
        if (!imuRead(REG_OUTX_L_G, raw, sizeof raw)) {
            stats.readErrors = stats.readErrors + 1u; /* this sample is lost: a gap */
            continue;
        }
        ikp_sample_t s;
        s.t_us = due;
        uint8_t a = accCode, g = gyrCode;
        for (int i = 0; i < 3; ++i) {
            s.gyr[i] = ikp_gyr_counts((float)le16(raw + 2 * i) * kGyrDpsPerLsb[g], g);
            s.acc[i] = ikp_acc_counts((float)le16(raw + 6 + 2 * i) * kAccGPerLsb[a], a);
        }
        taskENTER_CRITICAL();
        ikp_ring_push(&ring, &s);
        taskEXIT_CRITICAL();
        xSemaphoreGive(wakeLoop);
    }
}

/* ------------------------------------------------------------------ streaming control */
static uint16_t currentMtu(void)
{
    BLEConnection *conn = Bluefruit.Connection(connHandle);
    return conn ? conn->getMtu() : (uint16_t)IKP_DEFAULT_MTU;
}

static void leds(bool connected, bool stream)
{
#if IKB_USE_LEDS
    digitalWrite(LED_BLUE, connected ? LOW : HIGH); /* XIAO LEDs are active low */
    digitalWrite(LED_GREEN, stream ? LOW : HIGH);
#else
    (void)connected;
    (void)stream;
#endif
}

static void startStreaming(void)
{
    active = config;
    if (!imuConfigure(active)) {
        Serial.println("imu-knee: IMU configuration failed, not starting");
        return;
    }
    samplingStop();
    xQueueReset(tickQueue);
    periodUs = active.period_us;
    accCode = active.acc_code;
    gyrCode = active.gyr_code;
    taskENTER_CRITICAL();
    ikp_ring_init(&ring);
    taskEXIT_CRITICAL();
    uint8_t perPacket = ikp_samples_per_packet(currentMtu(), active.max_batch);
    ikp_batch_init(&batch, ikp_ranges_byte(active.acc_code, active.gyr_code), active.period_us,
                   perPacket); /* packet counter restarts at 0 */
    statsReset();
    sd_clock_hfclk_request(); /* crystal-accurate device clock while streaming (~+0.25 mA) */
    uint32_t running = 0;
    for (int i = 0; i < 100 && !running; ++i) {
        sd_clock_hfclk_is_running(&running);
        delay(1);
    }
    streaming = true;
    samplingStart(deviceTimeUs() + IKB_SETTLE_US);
    leds(true, true);
    Serial.printf("imu-knee: start %u Hz, +-%u g, +-%u dps, MTU %u, %u sample(s) per packet\n",
                  active.rate_hz, (unsigned)ikp_acc_range_g(active.acc_code),
                  (unsigned)ikp_gyr_range_dps(active.gyr_code), currentMtu(), perPacket);
}

static bool sendPacket(void)
{
    if (connHandle == BLE_CONN_HANDLE_INVALID) {
        return false;
    }
    uint16_t len = (uint16_t)ikp_batch_bytes(&batch);
    if (!dataChar.notify(connHandle, ikp_batch_data(&batch), len)) {
        stats.sendRetries++; /* no buffer or notifications off: keep the packet, retry */
        return false;
    }
    stats.packetsSent++;
    ikp_batch_next(&batch, ikp_samples_per_packet(currentMtu(), active.max_batch));
    return true;
}

static void pump(void)
{
    for (;;) {
        taskENTER_CRITICAL();
        int ready = ikp_batch_fill_from_ring(&batch, &ring);
        taskEXIT_CRITICAL();
        if (!ready || !sendPacket()) {
            return;
        }
    }
}

static void stopStreaming(bool flush)
{
    if (!streaming) {
        return;
    }
    samplingStop();
    streaming = false;
    if (flush) {
        pump();
        if (!ikp_batch_empty(&batch)) {
            sendPacket(); /* the partial last packet */
        }
    }
    imuSleep();
    sd_clock_hfclk_release();
    leds(connHandle != BLE_CONN_HANDLE_INVALID, false);
    Serial.printf("imu-knee: stop after %lu packets (%lu ring drops, %lu missed ticks)\n",
                  (unsigned long)stats.packetsSent, (unsigned long)ring.dropped,
                  (unsigned long)stats.ticksMissed);
}

/* ------------------------------------------------------------------ BLE callbacks */
static void postCommand(uint8_t kind, const ikp_config_t &config)
{
    Command cmd;
    cmd.kind = kind;
    cmd.config = config;
    if (xQueueSend(commandQueue, &cmd, ms2tick(100)) != pdTRUE) {
        Serial.println("imu-knee: command queue full, command dropped");
    }
    xSemaphoreGive(wakeLoop);
}

static void onControlWrite(uint16_t, BLECharacteristic *, uint8_t *data, uint16_t len)
{
    ikp_config_t parsed = ikp_default_config();
    ikp_control_kind_t kind = ikp_parse_control(data, len, &parsed);
    if (kind == IKP_CONTROL_INVALID) {
        Serial.printf("imu-knee: ignored a malformed control write of %u bytes\n", len);
        return;
    }
    postCommand((uint8_t)kind, parsed);
}

static void onConnect(uint16_t handle)
{
    connHandle = handle;
    BLEConnection *conn = Bluefruit.Connection(handle);
    if (conn) {
        conn->requestPHY();                       /* 2M PHY if the central can */
        conn->requestDataLengthUpdate();          /* 251-byte link-layer packets */
        conn->requestMtuExchange(IKP_PREFERRED_MTU);
        conn->requestConnectionParameter(12);     /* 15 ms (units of 1.25 ms) */
    }
    leds(true, false);
}

static void onDisconnect(uint16_t, uint8_t reason)
{
    connHandle = BLE_CONN_HANDLE_INVALID;
    postCommand(CMD_DISCONNECTED, config); /* loop() stops without flushing */
    Serial.printf("imu-knee: disconnected (reason 0x%02x)\n", reason);
}

static void advertisingBegin(void)
{
    char name[20];
    snprintf(name, sizeof name, "imu-knee %04X", (unsigned)(NRF_FICR->DEVICEADDR[0] & 0xFFFFu));
    Bluefruit.setName(name); /* "imu-knee" prefix: imu-knee scan recognises it by name too */
    Bluefruit.Advertising.addFlags(BLE_GAP_ADV_FLAGS_LE_ONLY_GENERAL_DISC_MODE);
    Bluefruit.Advertising.addTxPower();
    Bluefruit.Advertising.addService(imuService);
    Bluefruit.ScanResponse.addName();
    Bluefruit.Advertising.restartOnDisconnect(true);
    Bluefruit.Advertising.setInterval(32, 244); /* 20 ms fast, 152.5 ms slow (units 0.625 ms) */
    Bluefruit.Advertising.setFastTimeout(30);
    Bluefruit.Advertising.start(0);
}

/* ------------------------------------------------------------------ Arduino entry points */
void setup()
{
    Serial.begin(115200); /* USB serial for logs; the firmware never waits for it */
#if IKB_USE_LEDS
    pinMode(LED_BLUE, OUTPUT);
    pinMode(LED_GREEN, OUTPUT);
    leds(false, false);
#endif
    config = ikp_default_config();
    active = config;
    ikp_ring_init(&ring);
    tickQueue = xQueueCreate(8, sizeof(uint32_t));
    commandQueue = xQueueCreate(8, sizeof(Command));
    wakeLoop = xSemaphoreCreateBinary();
    xTaskCreate(samplerLoop, "imu", 512, NULL, TASK_PRIO_HIGH, &samplerTask);

    if (!imuBegin()) {
        Serial.println("imu-knee: continuing without an IMU (every read will fail)");
    }

    Bluefruit.configPrphBandwidth(BANDWIDTH_MAX); /* MTU up to 247, longer connection events */
    Bluefruit.begin();
    Bluefruit.setTxPower(IKB_TX_POWER_DBM);
    Bluefruit.Periph.setConnInterval(6, 12); /* preferred 7.5-15 ms */
    Bluefruit.Periph.setConnectCallback(onConnect);
    Bluefruit.Periph.setDisconnectCallback(onDisconnect);

    imuService.begin();
    dataChar.setProperties(CHR_PROPS_NOTIFY);
    dataChar.setPermission(SECMODE_OPEN, SECMODE_NO_ACCESS);
    dataChar.setMaxLen(IKP_MAX_PACKET_BYTES);
    dataChar.begin();
    controlChar.setProperties(CHR_PROPS_WRITE);
    controlChar.setPermission(SECMODE_NO_ACCESS, SECMODE_OPEN);
    controlChar.setMaxLen(20);
    controlChar.setWriteCallback(onControlWrite);
    controlChar.begin();

    clockBegin(); /* after Bluefruit.begin(): the SoftDevice is up for the clock requests */
    advertisingBegin();
    Serial.println("imu-knee: advertising");
}

void loop()
{
    xSemaphoreTake(wakeLoop, ms2tick(50)); /* sleep until a sample or a command arrives */

    Command cmd;
    while (xQueueReceive(commandQueue, &cmd, 0) == pdTRUE) {
        switch (cmd.kind) {
        case IKP_CONTROL_CONFIGURE:
            config = cmd.config; /* takes effect at the next start */
            break;
        case IKP_CONTROL_START:
            stopStreaming(true); /* a start while streaming restarts (counter back to 0) */
            if (connHandle != BLE_CONN_HANDLE_INVALID) {
                startStreaming();
            }
            break;
        case IKP_CONTROL_STOP:
            stopStreaming(true); /* the partial last packet is sent */
            break;
        default: /* CMD_DISCONNECTED */
            stopStreaming(false);
            break;
        }
    }
    if (streaming) {
        pump();
    }

    static uint32_t lastLogMs = 0;
    if (streaming && (uint32_t)(millis() - lastLogMs) >= IKB_LOG_PERIOD_MS) {
        lastLogMs = millis();
        Serial.printf("imu-knee: %lu packets, %lu retries, ring %lu/%u, %lu drops, %lu missed ticks, "
                      "%lu read errors, MTU %u\n",
                      (unsigned long)stats.packetsSent, (unsigned long)stats.sendRetries,
                      (unsigned long)ikp_ring_count(&ring), (unsigned)IKP_RING_CAPACITY,
                      (unsigned long)ring.dropped, (unsigned long)stats.ticksMissed,
                      (unsigned long)stats.readErrors, currentMtu());
    }
}
