/*
 * Host test driver for firmware_config/firmware/imu_knee_ble/imu_knee_packet.h.
 *
 * Written in the common subset of C99 and C++11 so tests/test_firmware_packet.py can build
 * it both with `g++ -std=c++11` and with `gcc -x c -std=c99`. It packs deterministic sample
 * sequences exactly as the firmware does and prints, line by line:
 *
 *   SCENARIO name mtu max_batch acc_code gyr_code rate_hz samples_per_packet
 *   IN t_us ax_g ay_g az_g gx_dps gy_dps gz_dps    (every sample offered to the sensor)
 *   DROP t_us                                      (a sample the full ring refused)
 *   PKT hex                                        (one notification payload)
 *   END dropped_total
 *
 * With arguments `control HEX...` it parses each HEX as a control-characteristic write and
 * prints `CTRL kind rate_hz period_us acc_code gyr_code max_batch` (kind 255 = invalid).
 *
 * With arguments `pack mtu max_batch acc_code gyr_code rate_hz seq_start` it reads samples
 * from stdin, one per line `t_us ax_g ay_g az_g gx_dps gy_dps gz_dps`, sends them through
 * the ring and the packet builder like the firmware, and prints one `PKT hex` per packet
 * (the partial last packet included). The property tests drive this mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imu_knee_packet.h"

static uint32_t g_lcg = 12345u;

/* deterministic pseudo-random value in [-1, 1) */
static float lcg_unit(void)
{
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return (float)((double)(g_lcg >> 8) / 8388608.0 - 1.0);
}

static void print_packet(const ikp_batch_t *b)
{
    size_t i;
    size_t n = ikp_batch_bytes(b);
    const uint8_t *p = ikp_batch_data(b);
    printf("PKT ");
    for (i = 0u; i < n; ++i) {
        printf("%02x", (unsigned)p[i]);
    }
    printf("\n");
}

typedef struct {
    const char *name;
    uint16_t mtu;
    uint8_t max_batch;
    uint8_t acc_code;
    uint8_t gyr_code;
    uint16_t rate_hz;
    uint32_t t_start_us;
    uint16_t seq_start;
    int n_samples;
    int gap_at;        /* index of a sample the sensor never took (-1: none) */
    int stall_until;   /* the sender sends nothing until this many samples exist (-1: never) */
    float amplitude;   /* of the random values, in units of the full scale */
} scenario_t;

static void sample_values(const scenario_t *sc, int k, float acc_g[3], float gyr_dps[3])
{
    float acc_fs = ikp_acc_range_g(sc->acc_code);
    float gyr_fs = ikp_gyr_range_dps(sc->gyr_code);
    int i;
    for (i = 0; i < 3; ++i) {
        acc_g[i] = sc->amplitude * acc_fs * lcg_unit();
        gyr_dps[i] = sc->amplitude * gyr_fs * lcg_unit();
    }
    /* exact full scale and just beyond, both signs, every few samples */
    if (k % 7 == 3) {
        acc_g[0] = acc_fs;
        acc_g[1] = -acc_fs;
        gyr_dps[0] = gyr_fs;
        gyr_dps[1] = -gyr_fs;
    }
    if (k % 11 == 5) {
        acc_g[2] = 3.0f * acc_fs;
        gyr_dps[2] = -4.0f * gyr_fs;
    }
}

static void send_ready(ikp_batch_t *b, ikp_ring_t *r, uint8_t capacity, int flush)
{
    for (;;) {
        int ready = ikp_batch_fill_from_ring(b, r);
        if (!ready && !(flush && !ikp_batch_empty(b))) {
            return;
        }
        print_packet(b);
        ikp_batch_next(b, capacity);
    }
}

static void run_scenario(const scenario_t *sc)
{
    static ikp_ring_t ring;
    ikp_batch_t batch;
    uint16_t period_us = ikp_period_us(sc->rate_hz);
    uint8_t cap = ikp_samples_per_packet(sc->mtu, sc->max_batch);
    int k;

    ikp_ring_init(&ring);
    ikp_batch_init(&batch, ikp_ranges_byte(sc->acc_code, sc->gyr_code), period_us, cap);
    batch.seq = sc->seq_start; /* lets the test cross the counter wrap without 65536 packets */
    printf("SCENARIO %s %u %u %u %u %u %u\n", sc->name, (unsigned)sc->mtu,
           (unsigned)sc->max_batch, (unsigned)sc->acc_code, (unsigned)sc->gyr_code,
           (unsigned)sc->rate_hz, (unsigned)cap);

    for (k = 0; k < sc->n_samples; ++k) {
        ikp_sample_t s;
        float acc_g[3];
        float gyr_dps[3];
        int i;
        /* device time of sample k, wrapping modulo 2^32 like the firmware's counter */
        uint32_t t_us = sc->t_start_us + (uint32_t)k * (uint32_t)period_us;
        sample_values(sc, k, acc_g, gyr_dps);
        if (k == sc->gap_at) {
            continue; /* this sample was never taken: its time is skipped */
        }
        s.t_us = t_us;
        for (i = 0; i < 3; ++i) {
            s.acc[i] = ikp_acc_counts(acc_g[i], sc->acc_code);
            s.gyr[i] = ikp_gyr_counts(gyr_dps[i], sc->gyr_code);
        }
        printf("IN %lu %.9g %.9g %.9g %.9g %.9g %.9g\n", (unsigned long)t_us, acc_g[0], acc_g[1],
               acc_g[2], gyr_dps[0], gyr_dps[1], gyr_dps[2]);
        if (!ikp_ring_push(&ring, &s)) {
            printf("DROP %lu\n", (unsigned long)t_us);
        }
        if (sc->stall_until < 0 || k + 1 >= sc->stall_until) {
            send_ready(&batch, &ring, 0u, 0);
        }
    }
    send_ready(&batch, &ring, 0u, 1); /* stop: the partial packet is sent too */
    printf("END %lu\n", (unsigned long)ring.dropped);
}

static void special_values(void)
{
    /* NaN and infinities through the same path (the test checks 0 and saturation) */
    ikp_batch_t batch;
    int16_t acc[3];
    int16_t gyr[3];
    float nan_value = (float)strtod("nan", NULL);
    float inf_value = (float)strtod("inf", NULL);
    ikp_batch_init(&batch, ikp_ranges_byte(1u, 2u), 10000u, ikp_samples_per_packet(23u, 8u));
    printf("SCENARIO special 23 8 1 2 100 1\n");
    acc[0] = ikp_acc_counts(nan_value, 1u);
    acc[1] = ikp_acc_counts(inf_value, 1u);
    acc[2] = ikp_acc_counts(-inf_value, 1u);
    gyr[0] = ikp_gyr_counts(-nan_value, 2u);
    gyr[1] = ikp_gyr_counts(1e30f, 2u);
    gyr[2] = ikp_gyr_counts(-1e30f, 2u);
    printf("IN 7 nan inf -inf nan 1e30 -1e30\n");
    ikp_batch_add(&batch, 7u, acc, gyr);
    print_packet(&batch);
    printf("END 0\n");
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int parse_controls(int argc, char **argv)
{
    int a;
    for (a = 2; a < argc; ++a) {
        uint8_t bytes[64];
        size_t n = 0u;
        size_t len = strlen(argv[a]);
        size_t i;
        ikp_config_t cfg = ikp_default_config();
        ikp_control_kind_t kind;
        if (len % 2u != 0u || len / 2u > sizeof bytes) {
            fprintf(stderr, "bad hex %s\n", argv[a]);
            return 2;
        }
        for (i = 0u; i < len; i += 2u) {
            int hi = hex_value(argv[a][i]);
            int lo = hex_value(argv[a][i + 1u]);
            if (hi < 0 || lo < 0) {
                fprintf(stderr, "bad hex %s\n", argv[a]);
                return 2;
            }
            bytes[n++] = (uint8_t)(hi * 16 + lo);
        }
        kind = ikp_parse_control(bytes, n, &cfg);
        printf("CTRL %u %u %u %u %u %u\n", (unsigned)kind, (unsigned)cfg.rate_hz,
               (unsigned)cfg.period_us, (unsigned)cfg.acc_code, (unsigned)cfg.gyr_code,
               (unsigned)cfg.max_batch);
    }
    return 0;
}

static int pack_stdin(int argc, char **argv)
{
    static ikp_ring_t ring;
    ikp_batch_t batch;
    char line[512];
    unsigned long v[6];
    int i;
    uint8_t acc_code;
    uint8_t gyr_code;
    uint8_t cap;
    if (argc != 8) {
        fprintf(stderr, "usage: pack mtu max_batch acc_code gyr_code rate_hz seq_start\n");
        return 2;
    }
    for (i = 0; i < 6; ++i) {
        v[i] = strtoul(argv[2 + i], NULL, 10);
    }
    acc_code = (uint8_t)v[2];
    gyr_code = (uint8_t)v[3];
    cap = ikp_samples_per_packet((uint16_t)v[0], (uint8_t)v[1]);
    ikp_ring_init(&ring);
    ikp_batch_init(&batch, ikp_ranges_byte(acc_code, gyr_code), ikp_period_us((uint16_t)v[4]), cap);
    batch.seq = (uint16_t)v[5];
    while (fgets(line, (int)sizeof line, stdin) != NULL) {
        unsigned long t_us;
        float acc_g[3];
        float gyr_dps[3];
        ikp_sample_t s;
        if (sscanf(line, "%lu %f %f %f %f %f %f", &t_us, &acc_g[0], &acc_g[1], &acc_g[2],
                   &gyr_dps[0], &gyr_dps[1], &gyr_dps[2]) != 7) {
            fprintf(stderr, "bad sample line: %s", line);
            return 2;
        }
        s.t_us = (uint32_t)t_us;
        for (i = 0; i < 3; ++i) {
            s.acc[i] = ikp_acc_counts(acc_g[i], acc_code);
            s.gyr[i] = ikp_gyr_counts(gyr_dps[i], gyr_code);
        }
        if (!ikp_ring_push(&ring, &s)) {
            fprintf(stderr, "ring overflow\n");
            return 3;
        }
        send_ready(&batch, &ring, 0u, 0);
    }
    send_ready(&batch, &ring, 0u, 1);
    return 0;
}

int main(int argc, char **argv)
{
    /* name, mtu, max_batch, acc, gyr, rate, t_start, seq_start, n, gap_at, stall_until, amp */
    static const scenario_t scenarios[] = {
        /* imu-knee's defaults: MTU 247, batches of 8, 16 g, 2000 dps, 200 Hz; the device clock
         * and the packet counter both wrap during the run */
        {"batch_default", 247u, 8u, 3u, 4u, 200u, 4294967295u - 60000u, 65530u, 101, -1, -1, 1.1f},
        /* no MTU exchange: one 20-byte single-sample packet per sample */
        {"single_mtu23", 23u, 8u, 0u, 0u, 100u, 1000u, 0u, 40, -1, -1, 1.2f},
        /* the largest batch, 19 samples at MTU 247, 800 Hz */
        {"batch_19", 247u, 19u, 1u, 1u, 800u, 0u, 0u, 60, -1, -1, 0.9f},
        /* MTU 100 allows 7 of the 8 asked for; 25 Hz (40 ms period) */
        {"batch_mtu100", 100u, 8u, 2u, 3u, 25u, 123456789u, 0u, 30, -1, -1, 1.0f},
        /* MTU 39 fits exactly 2 samples: the smallest batch */
        {"batch_2", 39u, 19u, 3u, 2u, 400u, 5u, 0u, 9, -1, -1, 1.0f},
        /* MTU 38 fits only 1: falls back to single-sample packets */
        {"single_mtu38", 38u, 19u, 2u, 4u, 50u, 77u, 0u, 5, -1, -1, 1.0f},
        /* a sample never taken: the packet before the gap is sent short, the next starts
         * at the right time */
        {"gap", 247u, 8u, 3u, 4u, 200u, 0u, 0u, 30, 13, -1, 0.5f},
        /* the sender stalls until 100 samples exist: the 64-sample ring drops the newest */
        {"ring_overflow", 247u, 8u, 3u, 4u, 200u, 0u, 0u, 120, -1, 100, 0.5f}
    };
    size_t i;
    if (argc >= 2 && strcmp(argv[1], "control") == 0) {
        return parse_controls(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "pack") == 0) {
        return pack_stdin(argc, argv);
    }
    for (i = 0u; i < sizeof scenarios / sizeof scenarios[0]; ++i) {
        run_scenario(&scenarios[i]);
    }
    special_values();
    return 0;
}
