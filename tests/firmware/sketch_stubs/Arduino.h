/* Host stand-in for the Seeed nRF52 (Adafruit-based) Arduino core: only the declarations the
 * imu-knee sketch uses, written from the core's public headers, so tests/test_firmware_packet.py
 * can syntax- and type-check imu_knee_ble.ino with g++ (-fsyntax-only: nothing is linked or
 * run). It proves the sketch is well-formed C++ against these signatures, not that it runs. */
#ifndef IKP_STUB_ARDUINO_H
#define IKP_STUB_ARDUINO_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HIGH 1
#define LOW 0
#define OUTPUT 1
#define LED_RED 11
#define LED_BLUE 12
#define LED_GREEN 13
#define PIN_WIRE1_SDA 17
#define PIN_WIRE1_SCL 16
#define PIN_LSM6DS3TR_C_POWER 15
#define WIRE_INTERFACES_COUNT 2

extern const uint32_t g_ADigitalPinMap[];
void pinMode(uint32_t pin, uint32_t mode);
void digitalWrite(uint32_t pin, uint32_t value);
void delay(uint32_t ms);
uint32_t millis(void);

class HardwareSerialStub {
  public:
    void begin(unsigned long baud);
    size_t println(const char *text);
    int printf(const char *format, ...) __attribute__((format(printf, 2, 3)));
};
extern HardwareSerialStub Serial;

/* nRF52840 registers (nrf52840.h / nrf52840_bitfields.h names) */
typedef struct {
    volatile uint32_t TASKS_START, TASKS_STOP, TASKS_CLEAR, TASKS_CAPTURE[6];
    volatile uint32_t EVENTS_COMPARE[6];
    volatile uint32_t INTENSET, INTENCLR, MODE, BITMODE, PRESCALER, CC[6];
} NRF_TIMER_Type;
typedef struct {
    volatile uint32_t OUTSET, PIN_CNF[32];
} NRF_GPIO_Type;
typedef struct {
    volatile uint32_t DEVICEADDR[2];
} NRF_FICR_Type;
extern NRF_TIMER_Type *NRF_TIMER3;
extern NRF_GPIO_Type *NRF_P0;
extern NRF_GPIO_Type *NRF_P1;
extern NRF_FICR_Type *NRF_FICR;
#define TIMER_MODE_MODE_Timer 0u
#define TIMER_BITMODE_BITMODE_32Bit 3u
#define TIMER_INTENSET_COMPARE0_Msk (1u << 16)
#define TIMER_INTENCLR_COMPARE0_Msk (1u << 16)
#define GPIO_PIN_CNF_DIR_Pos 0u
#define GPIO_PIN_CNF_DIR_Output 1u
#define GPIO_PIN_CNF_INPUT_Pos 1u
#define GPIO_PIN_CNF_INPUT_Disconnect 1u
#define GPIO_PIN_CNF_PULL_Pos 2u
#define GPIO_PIN_CNF_PULL_Disabled 0u
#define GPIO_PIN_CNF_DRIVE_Pos 8u
#define GPIO_PIN_CNF_DRIVE_H0H1 3u
typedef enum { TIMER3_IRQn = 26 } IRQn_Type;
void NVIC_SetPriority(IRQn_Type irq, uint32_t priority);
void NVIC_ClearPendingIRQ(IRQn_Type irq);
void NVIC_EnableIRQ(IRQn_Type irq);

/* SoftDevice clock calls (nrf_soc.h) */
uint32_t sd_clock_hfclk_request(void);
uint32_t sd_clock_hfclk_release(void);
uint32_t sd_clock_hfclk_is_running(uint32_t *p_is_running);

/* FreeRTOS as configured by the core */
typedef long BaseType_t;
typedef uint32_t TickType_t;
typedef void *QueueHandle_t;
typedef void *SemaphoreHandle_t;
typedef void *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);
#define pdTRUE 1
#define pdFALSE 0
#define portMAX_DELAY 0xFFFFFFFFu
#define TASK_PRIO_HIGH 3
#define ms2tick(ms) ((TickType_t)(ms))
QueueHandle_t xQueueCreate(uint32_t length, uint32_t item_size);
BaseType_t xQueueSend(QueueHandle_t q, const void *item, TickType_t wait);
BaseType_t xQueueSendFromISR(QueueHandle_t q, const void *item, BaseType_t *woken);
BaseType_t xQueueReceive(QueueHandle_t q, void *item, TickType_t wait);
BaseType_t xQueueReset(QueueHandle_t q);
SemaphoreHandle_t xSemaphoreCreateBinary(void);
BaseType_t xSemaphoreGive(SemaphoreHandle_t s);
BaseType_t xSemaphoreTake(SemaphoreHandle_t s, TickType_t wait);
BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, uint16_t stack_words, void *arg,
                       uint32_t priority, TaskHandle_t *handle);
void portYIELD_FROM_ISR(BaseType_t woken);
void taskENTER_CRITICAL(void);
void taskEXIT_CRITICAL(void);
#endif
