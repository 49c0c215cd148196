/* test_crc32c: the known vector, hardware and table paths agreeing, incremental use. */
#include "crc32c.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_crc32c_known_vector)
{
    ck_assert_uint_eq(crc32c_compute("123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(crc32c_extend_sw(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(crc32c_compute("", 0), 0);
    /* RFC 3720 B.4: 32 bytes of zeros. */
    unsigned char zeros[32] = {0};
    ck_assert_uint_eq(crc32c_compute(zeros, sizeof zeros), 0x8A9136AAu);
}
END_TEST

/* Every length and alignment up to a few words, and a long buffer, split at random points. */
START_TEST(test_crc32c_paths_agree)
{
    unsigned char buf[4096];
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (unsigned char) rand_r(&seed);
    }
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len < 64; len++) {
            ck_assert_uint_eq(crc32c_compute(buf + off, len), crc32c_extend_sw(0, buf + off, len));
        }
    }
    uint32_t whole = crc32c_compute(buf, sizeof buf);
    ck_assert_uint_eq(whole, crc32c_extend_sw(0, buf, sizeof buf));
    for (int k = 0; k < 100; k++) {
        size_t cut = (size_t) rand_r(&seed) % sizeof buf;
        uint32_t c = crc32c_extend(0, buf, cut);
        ck_assert_uint_eq(crc32c_extend(c, buf + cut, sizeof buf - cut), whole);
        c = crc32c_extend_sw(0, buf, cut);
        ck_assert_uint_eq(crc32c_extend_sw(c, buf + cut, sizeof buf - cut), whole);
    }
    /* A single flipped bit changes the CRC. */
    buf[100] ^= 0x10;
    ck_assert_uint_ne(crc32c_compute(buf, sizeof buf), whole);
}
END_TEST

static Suite *
crc32c_suite(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_crc32c_known_vector);
    tcase_add_test(tc, test_crc32c_paths_agree);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(crc32c_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
