/* crc32c: CRC-32C with the SSE4.2 instruction, or slicing-by-8 tables. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC32C_HAVE_X86 1
#else
#define CRC32C_HAVE_X86 0
#endif

#define CRC32C_POLY_REFLECTED 0x82F63B78u /* 0x1EDC6F41 bit-reversed */
#define CRC32C_SLICES         8           /* tables for slicing-by-8 */
#define CRC32C_TABLE_SIZE     256         /* one entry per byte value */
#define CRC32C_BYTE_BITS      8           /* bits per byte */
#define CRC32C_BYTE_MASK      0xFFu       /* low byte */

static uint32_t s_table[CRC32C_SLICES][CRC32C_TABLE_SIZE];
static pthread_once_t s_table_once = PTHREAD_ONCE_INIT;

static void
s_build_tables(void)
{
    for (uint32_t i = 0; i < CRC32C_TABLE_SIZE; i++) {
        uint32_t c = i;
        for (int b = 0; b < CRC32C_BYTE_BITS; b++) {
            c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
        }
        s_table[0][i] = c;
    }
    for (uint32_t i = 0; i < CRC32C_TABLE_SIZE; i++) {
        for (int k = 1; k < CRC32C_SLICES; k++) {
            uint32_t prev = s_table[k - 1][i];
            s_table[k][i] = (prev >> CRC32C_BYTE_BITS) ^ s_table[0][prev & CRC32C_BYTE_MASK];
        }
    }
}

uint32_t
crc32c_extend_sw(uint32_t crc, const void *data, size_t size)
{
    const unsigned char *p = data;
    uint32_t c = ~crc;

    pthread_once(&s_table_once, s_build_tables);
    while (size >= CRC32C_SLICES) {
        /* The tables are for little-endian loads; every supported host is little-endian. */
        uint64_t word;
        memcpy(&word, p, sizeof word);
        word ^= c;
        c = s_table[7][word & 0xFF] ^ s_table[6][(word >> 8) & 0xFF]
            ^ s_table[5][(word >> 16) & 0xFF] ^ s_table[4][(word >> 24) & 0xFF]
            ^ s_table[3][(word >> 32) & 0xFF] ^ s_table[2][(word >> 40) & 0xFF]
            ^ s_table[1][(word >> 48) & 0xFF] ^ s_table[0][word >> 56];
        p += CRC32C_SLICES;
        size -= CRC32C_SLICES;
    }
    while (size--) {
        c = (c >> CRC32C_BYTE_BITS) ^ s_table[0][(c ^ *p++) & CRC32C_BYTE_MASK];
    }
    return ~c;
}

#if CRC32C_HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t
s_extend_hw(uint32_t crc, const void *data, size_t size)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;

    while (size >= sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        c = _mm_crc32_u64(c, word);
        p += sizeof word;
        size -= sizeof word;
    }
    uint32_t c32 = (uint32_t) c;
    while (size--) {
        c32 = _mm_crc32_u8(c32, *p++);
    }
    return ~c32;
}
#endif

bool
crc32c_is_hw(void)
{
#if CRC32C_HAVE_X86
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

uint32_t
crc32c_extend(uint32_t crc, const void *data, size_t size)
{
#if CRC32C_HAVE_X86
    if (__builtin_cpu_supports("sse4.2")) {
        return s_extend_hw(crc, data, size);
    }
#endif
    return crc32c_extend_sw(crc, data, size);
}

uint32_t
crc32c_compute(const void *data, size_t size)
{
    return crc32c_extend(0, data, size);
}
