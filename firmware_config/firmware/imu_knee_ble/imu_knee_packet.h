/*
 * imu_knee_packet.h - packet packing for the imu-knee open BLE sensor protocol, version 1.
 *
 * Specification: firmware_config/imu_knee_protocol.md. Reference decoder (the one the host
 * runs): imu_knee/ble/profiles/imuknee.py. Every constant here must equal the Python one;
 * tests/test_firmware_packet.py compiles this header on the host and decodes its packets
 * with the Python decoder.
 *
 * Plain C99 / C++11: no Arduino headers, fixed-width integers, bytes written one by one in
 * little-endian order (no struct casts, no alignment or endianness assumptions), float to
 * integer conversions clamped before the cast (no undefined behaviour on overflow or NaN).
 *
 * What is here:
 *   - protocol constants (UUIDs, packet kinds and sizes, commands, ranges, rates);
 *   - scale conversions: g and deg/s <-> int16 counts on the wire, rounding and saturating;
 *   - a packet builder (ikp_batch_*) that fills exactly one notification at a time, either
 *     a 20-byte single-sample packet (kind 1, ATT MTU 23) or a batch packet (kind 2);
 *   - a parser for the control characteristic (configure / start / stop);
 *   - a small single-producer single-consumer ring buffer of timed samples.
 *
 * Typical firmware loop (see imu_knee_ble/imu_knee_ble.ino):
 *
 *     ikp_batch_t batch;
 *     ikp_batch_init(&batch, ikp_ranges_byte(acc_code, gyr_code), period_us,
 *                    ikp_samples_per_packet(mtu, max_batch));
 *     ...for each sample taken at device time t_us:
 *     if (ikp_batch_add(&batch, t_us, acc, gyr) != IKP_ADDED) {   // full or not contiguous
 *         notify(ikp_batch_data(&batch), ikp_batch_bytes(&batch)); ikp_batch_next(&batch);
 *         ikp_batch_add(&batch, t_us, acc, gyr);
 *     }
 *     if (ikp_batch_full(&batch)) { notify(...); ikp_batch_next(&batch); }
 */
#ifndef IMU_KNEE_PACKET_H
#define IMU_KNEE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IKP_INLINE static inline

/* ------------------------------------------------------------------ GATT */
#define IKP_SERVICE_UUID "02630001-5cc5-4910-83c0-657a8b17e6ae"
#define IKP_DATA_UUID    "02630002-5cc5-4910-83c0-657a8b17e6ae"
#define IKP_CONTROL_UUID "02630003-5cc5-4910-83c0-657a8b17e6ae"

/* ------------------------------------------------------------------ packets */
#define IKP_VERSION            1u
#define IKP_KIND_SINGLE        1u
#define IKP_KIND_BATCH         2u
#define IKP_HEADER_SINGLE      0x11u /* (IKP_VERSION << 4) | IKP_KIND_SINGLE */
#define IKP_HEADER_BATCH       0x12u /* (IKP_VERSION << 4) | IKP_KIND_BATCH */
#define IKP_SINGLE_BYTES       20u
#define IKP_BATCH_HEADER_BYTES 12u
#define IKP_SAMPLE_BYTES       12u   /* 6 x int16: acc x, y, z, gyro x, y, z */
#define IKP_MAX_BATCH          19u   /* most samples in one packet (MTU 247: 244 payload bytes) */
#define IKP_MAX_PACKET_BYTES   (IKP_BATCH_HEADER_BYTES + IKP_SAMPLE_BYTES * IKP_MAX_BATCH)
#define IKP_ATT_HEADER_BYTES   3u    /* a notification carries at most MTU - 3 bytes */
#define IKP_DEFAULT_MTU        23u
#define IKP_PREFERRED_MTU      247u

/* ------------------------------------------------------------------ control */
#define IKP_CMD_CONFIGURE       0x01u
#define IKP_CMD_START           0x02u
#define IKP_CMD_STOP            0x03u
#define IKP_CONFIGURE_BYTES     6u /* 01 rate_u16 acc_code gyro_code max_batch */
#define IKP_N_ACC_RANGES        4u
#define IKP_N_GYR_RANGES        5u
#define IKP_N_RATES             6u

/* ------------------------------------------------------------------ little-endian bytes */
IKP_INLINE void ikp_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
}

IKP_INLINE void ikp_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)((v >> 24) & 0xFFu);
}

IKP_INLINE void ikp_put_i16(uint8_t *p, int16_t v)
{
    /* int -> unsigned conversion is defined (modulo 2^16): two's complement bytes */
    ikp_put_u16(p, (uint16_t)v);
}

IKP_INLINE uint16_t ikp_get_u16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] | (uint16_t)((uint16_t)p[1] << 8));
}

/* ------------------------------------------------------------------ ranges and scales */

/* Full scale in g of an accelerometer range code (0: 2 g, 1: 4 g, 2: 8 g, 3: 16 g); 0 if invalid. */
IKP_INLINE float ikp_acc_range_g(uint8_t acc_code)
{
    switch (acc_code) {
    case 0: return 2.0f;
    case 1: return 4.0f;
    case 2: return 8.0f;
    case 3: return 16.0f;
    default: return 0.0f;
    }
}

/* Full scale in deg/s of a gyro range code (0: 125 ... 4: 2000); 0 if invalid. */
IKP_INLINE float ikp_gyr_range_dps(uint8_t gyr_code)
{
    switch (gyr_code) {
    case 0: return 125.0f;
    case 1: return 250.0f;
    case 2: return 500.0f;
    case 3: return 1000.0f;
    case 4: return 2000.0f;
    default: return 0.0f;
    }
}

/* 1 if rate_hz is one of the protocol's rates (25, 50, 100, 200, 400, 800 Hz). */
IKP_INLINE int ikp_rate_supported(uint16_t rate_hz)
{
    return rate_hz == 25u || rate_hz == 50u || rate_hz == 100u || rate_hz == 200u ||
           rate_hz == 400u || rate_hz == 800u;
}

/* Sample period in us of a supported rate (exact for all of them); 0 if unsupported. */
IKP_INLINE uint16_t ikp_period_us(uint16_t rate_hz)
{
    if (!ikp_rate_supported(rate_hz)) {
        return 0u;
    }
    return (uint16_t)(1000000ul / (uint32_t)rate_hz);
}

/* The packet's ranges byte: bits 0-1 acc code, bits 2-4 gyro code, bits 5-7 zero. */
IKP_INLINE uint8_t ikp_ranges_byte(uint8_t acc_code, uint8_t gyr_code)
{
    return (uint8_t)((acc_code & 0x03u) | ((gyr_code & 0x07u) << 2));
}

/* Round to the nearest integer (halves away from zero) and saturate to int16; NaN -> 0.
 * The value is clamped BEFORE the float -> int conversion, so no overflow is possible. */
IKP_INLINE int16_t ikp_round_saturate(float x)
{
    int32_t whole;
    float frac;
    if (!(x == x)) {
        return 0; /* NaN */
    }
    if (x >= 32767.0f) {
        return (int16_t)32767;
    }
    if (x <= -32768.0f) {
        return (int16_t)(-32767 - 1);
    }
    whole = (int32_t)x;          /* truncates toward zero; |x| < 32768 so it fits */
    frac = x - (float)whole;     /* exact for |x| < 2^15 */
    if (frac >= 0.5f) {
        whole += 1;
    } else if (frac <= -0.5f) {
        whole -= 1;
    }
    if (whole > 32767) {
        whole = 32767;
    }
    if (whole < -32768) {
        whole = -32768;
    }
    return (int16_t)whole;
}

/* Acceleration in g -> wire counts (count = g * 32768 / range_g), saturating at full scale. */
IKP_INLINE int16_t ikp_acc_counts(float acc_g, uint8_t acc_code)
{
    float range = ikp_acc_range_g(acc_code);
    if (range <= 0.0f) {
        return 0;
    }
    return ikp_round_saturate(acc_g * 32768.0f / range); /* one rounding: x * 2^15 is exact */
}

/* Angular rate in deg/s -> wire counts (count = dps * 32768 / range_dps), saturating. */
IKP_INLINE int16_t ikp_gyr_counts(float gyr_dps, uint8_t gyr_code)
{
    float range = ikp_gyr_range_dps(gyr_code);
    if (range <= 0.0f) {
        return 0;
    }
    return ikp_round_saturate(gyr_dps * 32768.0f / range);
}

/* Wire counts -> g / deg/s (what the central computes; handy for firmware self-checks). */
IKP_INLINE float ikp_acc_g(int16_t counts, uint8_t acc_code)
{
    return (float)counts * (ikp_acc_range_g(acc_code) / 32768.0f);
}

IKP_INLINE float ikp_gyr_dps(int16_t counts, uint8_t gyr_code)
{
    return (float)counts * (ikp_gyr_range_dps(gyr_code) / 32768.0f);
}

/* Samples per notification for a negotiated ATT MTU: N = min(max_batch, (MTU - 3 - 12) / 12),
 * at most 19; 1 (single-sample packets, kind 1) when that is below 2. */
IKP_INLINE uint8_t ikp_samples_per_packet(uint16_t mtu, uint8_t max_batch)
{
    uint32_t fit;
    uint32_t n;
    if (mtu < IKP_ATT_HEADER_BYTES + IKP_BATCH_HEADER_BYTES) {
        return 1u;
    }
    fit = ((uint32_t)mtu - IKP_ATT_HEADER_BYTES - IKP_BATCH_HEADER_BYTES) / IKP_SAMPLE_BYTES;
    n = fit < (uint32_t)max_batch ? fit : (uint32_t)max_batch;
    if (n > IKP_MAX_BATCH) {
        n = IKP_MAX_BATCH;
    }
    return (uint8_t)(n < 2u ? 1u : n);
}

/* ------------------------------------------------------------------ packet builder */

typedef enum {
    IKP_ADDED = 0,          /* the sample is in the packet */
    IKP_FULL = 1,           /* not added: the packet is full; send it, ikp_batch_next, add again */
    IKP_NOT_CONTIGUOUS = 2  /* not added: its time is not t0 + n * period (a sample was lost
                               before it); send the partial packet, ikp_batch_next, add again */
} ikp_add_result_t;

typedef struct {
    uint8_t buf[IKP_MAX_PACKET_BYTES]; /* the packet being filled, ready to send at any time */
    uint8_t capacity;   /* samples per packet; 1 means single-sample packets (kind 1) */
    uint8_t n;          /* samples in the packet now */
    uint8_t ranges;     /* ranges byte (ikp_ranges_byte) */
    uint16_t period_us; /* sample period */
    uint16_t seq;       /* packet counter of the packet being filled; +1 per packet, wraps */
    uint32_t t0_us;     /* device time of the packet's first sample */
} ikp_batch_t;

/* Start a stream: packet counter 0, empty packet. samples_per_packet from ikp_samples_per_packet
 * (values above 19 are cut to 19, 0 is taken as 1). */
IKP_INLINE void ikp_batch_init(ikp_batch_t *b, uint8_t ranges, uint16_t period_us,
                               uint8_t samples_per_packet)
{
    uint8_t cap = samples_per_packet;
    if (cap < 1u) {
        cap = 1u;
    }
    if (cap > IKP_MAX_BATCH) {
        cap = (uint8_t)IKP_MAX_BATCH;
    }
    b->capacity = cap;
    b->n = 0u;
    b->ranges = (uint8_t)(ranges & 0x1Fu);
    b->period_us = period_us;
    b->seq = 0u;
    b->t0_us = 0u;
}

/* Change the samples per packet (after an MTU exchange); takes effect from the next packet. */
IKP_INLINE void ikp_batch_set_capacity(ikp_batch_t *b, uint8_t samples_per_packet)
{
    uint8_t cap = samples_per_packet < 1u ? (uint8_t)1u : samples_per_packet;
    if (cap > IKP_MAX_BATCH) {
        cap = (uint8_t)IKP_MAX_BATCH;
    }
    if (b->n == 0u) {
        b->capacity = cap;
    } else if (cap >= 2u && b->capacity >= 2u && cap >= b->n) {
        b->capacity = cap; /* a batch in progress can grow or shrink down to what it holds */
    }
    /* otherwise the new size is applied by ikp_batch_next */
}

IKP_INLINE int ikp_batch_full(const ikp_batch_t *b)
{
    return b->n >= b->capacity;
}

IKP_INLINE int ikp_batch_empty(const ikp_batch_t *b)
{
    return b->n == 0u;
}

/* Bytes of the packet being filled (0 when it holds no sample). */
IKP_INLINE size_t ikp_batch_bytes(const ikp_batch_t *b)
{
    if (b->n == 0u) {
        return 0u;
    }
    if (b->capacity < 2u) {
        return IKP_SINGLE_BYTES;
    }
    return (size_t)IKP_BATCH_HEADER_BYTES + (size_t)IKP_SAMPLE_BYTES * (size_t)b->n;
}

IKP_INLINE const uint8_t *ikp_batch_data(const ikp_batch_t *b)
{
    return b->buf;
}

/* Add one sample taken at device time t_us; acc and gyr are wire counts (ikp_acc_counts,
 * ikp_gyr_counts). The packet bytes are complete after every successful add. */
IKP_INLINE ikp_add_result_t ikp_batch_add(ikp_batch_t *b, uint32_t t_us, const int16_t acc[3],
                                          const int16_t gyr[3])
{
    uint8_t *p;
    unsigned i;
    if (b->n >= b->capacity) {
        return IKP_FULL;
    }
    if (b->capacity < 2u) {
        /* single-sample packet: 0x11 | ranges | u16 seq | u32 t_us | 6 x i16 */
        p = b->buf;
        p[0] = (uint8_t)IKP_HEADER_SINGLE;
        p[1] = b->ranges;
        ikp_put_u16(p + 2, b->seq);
        ikp_put_u32(p + 4, t_us);
        for (i = 0u; i < 3u; ++i) {
            ikp_put_i16(p + 8u + 2u * i, acc[i]);
            ikp_put_i16(p + 14u + 2u * i, gyr[i]);
        }
        b->t0_us = t_us;
        b->n = 1u;
        return IKP_ADDED;
    }
    if (b->n == 0u) {
        /* 0x12 | ranges | u16 seq | u32 t0_us | u16 period_us | u8 N | u8 0 */
        p = b->buf;
        p[0] = (uint8_t)IKP_HEADER_BATCH;
        p[1] = b->ranges;
        ikp_put_u16(p + 2, b->seq);
        ikp_put_u32(p + 4, t_us);
        ikp_put_u16(p + 8, b->period_us);
        p[10] = 0u;
        p[11] = 0u;
        b->t0_us = t_us;
    } else if ((uint32_t)(t_us - b->t0_us) != (uint32_t)b->n * (uint32_t)b->period_us) {
        /* unsigned arithmetic: defined modulo 2^32, so a clock wrap inside a batch is fine */
        return IKP_NOT_CONTIGUOUS;
    }
    p = b->buf + IKP_BATCH_HEADER_BYTES + (size_t)IKP_SAMPLE_BYTES * (size_t)b->n;
    for (i = 0u; i < 3u; ++i) {
        ikp_put_i16(p + 2u * i, acc[i]);
        ikp_put_i16(p + 6u + 2u * i, gyr[i]);
    }
    b->n = (uint8_t)(b->n + 1u);
    b->buf[10] = b->n;
    return IKP_ADDED;
}

/* The packet was sent (or is given up): empty it and advance the packet counter. A new
 * capacity (e.g. after an MTU exchange) may be given; pass 0 to keep the current one. */
IKP_INLINE void ikp_batch_next(ikp_batch_t *b, uint8_t samples_per_packet)
{
    b->n = 0u;
    b->seq = (uint16_t)((b->seq + 1u) & 0xFFFFu);
    if (samples_per_packet != 0u) {
        ikp_batch_set_capacity(b, samples_per_packet);
    }
}

/* ------------------------------------------------------------------ control characteristic */

typedef enum {
    IKP_CONTROL_CONFIGURE = IKP_CMD_CONFIGURE,
    IKP_CONTROL_START = IKP_CMD_START,
    IKP_CONTROL_STOP = IKP_CMD_STOP,
    IKP_CONTROL_INVALID = 0xFF
} ikp_control_kind_t;

typedef struct {
    uint16_t rate_hz;
    uint16_t period_us;
    uint8_t acc_code;
    uint8_t gyr_code;
    uint8_t max_batch;
} ikp_config_t;

/* The protocol's power-on configuration is not specified; this firmware starts with
 * imu-knee's defaults (firmware_config/imu-knee.json): 200 Hz, 16 g, 2000 deg/s, batch 8. */
IKP_INLINE ikp_config_t ikp_default_config(void)
{
    ikp_config_t c;
    c.rate_hz = 200u;
    c.period_us = 5000u;
    c.acc_code = 3u;
    c.gyr_code = 4u;
    c.max_batch = 8u;
    return c;
}

/* Parse one write to the control characteristic. A valid configure fills *config (the caller
 * applies it at the next start); anything malformed returns IKP_CONTROL_INVALID and leaves
 * *config untouched (the firmware should then answer the write with an error). */
IKP_INLINE ikp_control_kind_t ikp_parse_control(const uint8_t *data, size_t len,
                                                ikp_config_t *config)
{
    uint16_t rate;
    if (data == NULL || len == 0u) {
        return IKP_CONTROL_INVALID;
    }
    switch (data[0]) {
    case IKP_CMD_CONFIGURE:
        if (len != IKP_CONFIGURE_BYTES) {
            return IKP_CONTROL_INVALID;
        }
        rate = ikp_get_u16(data + 1);
        if (!ikp_rate_supported(rate) || data[3] >= IKP_N_ACC_RANGES ||
            data[4] >= IKP_N_GYR_RANGES || data[5] < 1u || data[5] > IKP_MAX_BATCH) {
            return IKP_CONTROL_INVALID;
        }
        config->rate_hz = rate;
        config->period_us = ikp_period_us(rate);
        config->acc_code = data[3];
        config->gyr_code = data[4];
        config->max_batch = data[5];
        return IKP_CONTROL_CONFIGURE;
    case IKP_CMD_START:
        return len == 1u ? IKP_CONTROL_START : IKP_CONTROL_INVALID;
    case IKP_CMD_STOP:
        return len == 1u ? IKP_CONTROL_STOP : IKP_CONTROL_INVALID;
    default:
        return IKP_CONTROL_INVALID;
    }
}

/* ------------------------------------------------------------------ sample ring buffer */

#ifndef IKP_RING_CAPACITY
#define IKP_RING_CAPACITY 64u /* power of two; 64 samples = 320 ms at 200 Hz */
#endif

/* the ring indexes with free-running uint32 counters: the capacity must divide 2^32 */
typedef char ikp_ring_capacity_must_be_a_power_of_two
    [((IKP_RING_CAPACITY) & ((IKP_RING_CAPACITY) - 1u)) == 0u && (IKP_RING_CAPACITY) > 0u ? 1 : -1];

typedef struct {
    uint32_t t_us;
    int16_t acc[3];
    int16_t gyr[3];
} ikp_sample_t;

/* Single producer (sampling interrupt/task), single consumer (sender). Not thread-safe by
 * itself: on a multi-tasking target wrap push/pop in a critical section (the sketch does),
 * or give each side its own index only (head is written by the producer, tail by the
 * consumer) with memory barriers. */
typedef struct {
    ikp_sample_t items[IKP_RING_CAPACITY];
    uint32_t head;    /* next slot to write (producer) */
    uint32_t tail;    /* next slot to read (consumer) */
    uint32_t dropped; /* samples refused because the ring was full */
} ikp_ring_t;

IKP_INLINE void ikp_ring_init(ikp_ring_t *r)
{
    r->head = 0u;
    r->tail = 0u;
    r->dropped = 0u;
}

IKP_INLINE uint32_t ikp_ring_count(const ikp_ring_t *r)
{
    return (uint32_t)(r->head - r->tail);
}

/* 1 if stored; 0 (and dropped += 1) if full: the newest sample is dropped, so the samples
 * already queued keep their times and the gap shows as a new packet's t0. */
IKP_INLINE int ikp_ring_push(ikp_ring_t *r, const ikp_sample_t *s)
{
    if (ikp_ring_count(r) >= (uint32_t)IKP_RING_CAPACITY) {
        r->dropped += 1u;
        return 0;
    }
    r->items[r->head % (uint32_t)IKP_RING_CAPACITY] = *s;
    r->head += 1u;
    return 1;
}

/* Oldest sample without removing it; NULL if empty. */
IKP_INLINE const ikp_sample_t *ikp_ring_peek(const ikp_ring_t *r)
{
    if (r->head == r->tail) {
        return NULL;
    }
    return &r->items[r->tail % (uint32_t)IKP_RING_CAPACITY];
}

IKP_INLINE int ikp_ring_pop(ikp_ring_t *r, ikp_sample_t *out)
{
    if (r->head == r->tail) {
        return 0;
    }
    *out = r->items[r->tail % (uint32_t)IKP_RING_CAPACITY];
    r->tail += 1u;
    return 1;
}

/* Move queued samples into the packet. Returns 1 when the packet is ready to send (full, or
 * the next queued sample does not continue it because samples were lost in between), 0 when
 * it needs more samples (send it anyway at stop, or when latency matters more). After
 * sending call ikp_batch_next and call this again: more samples may be waiting. */
IKP_INLINE int ikp_batch_fill_from_ring(ikp_batch_t *b, ikp_ring_t *r)
{
    const ikp_sample_t *s;
    while (!ikp_batch_full(b)) {
        s = ikp_ring_peek(r);
        if (s == NULL) {
            return 0;
        }
        if (ikp_batch_add(b, s->t_us, s->acc, s->gyr) != IKP_ADDED) {
            return 1; /* cannot happen on an empty packet, so this never loops forever */
        }
        r->tail += 1u;
    }
    return 1;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* IMU_KNEE_PACKET_H */
