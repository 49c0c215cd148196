/*
 * crc32c: CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every journal
 * record (DESIGN.md §8). CRC32C("123456789") = 0xE3069283.
 *
 * DESIGN: the SSE4.2 `crc32` instruction when the CPU has it (checked once at run time), else a
 * slicing-by-8 table computed on first use. No new dependency: see docs/durability.md.
 */
#ifndef PROTO_CRC32C_H
#define PROTO_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Continue a CRC: crc is the value returned for the bytes before (0 to start), the result
 * covers those bytes followed by size bytes of data. Thread-safe.
 */
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t size);

/* The CRC of size bytes of data: crc32c_extend(0, data, size). */
uint32_t crc32c_compute(const void *data, size_t size);

/* Same with the portable table code only, whatever the CPU (tests compare both paths). */
uint32_t crc32c_extend_sw(uint32_t crc, const void *data, size_t size);

/* True when crc32c_extend uses the SSE4.2 instruction on this machine. */
bool crc32c_is_hw(void);

#endif
