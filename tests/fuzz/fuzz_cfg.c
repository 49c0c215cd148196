/*
 * fuzz_cfg: the config loader on arbitrary bytes, with and without environment overrides.
 * Any input must give a config or a list of errors: never a crash, leak or over-read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const env[] = {"TICKPIPE_WRITER__BATCH_ROWS=7", "TICKPIPE_LOG__LEVEL=debug", NULL};
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *c =
        config_load_buffer("fuzz.yaml", (const char *) data, size, (size & 1) ? env : NULL, &errs);
    if (c) {
        if (errs.count != 0) {
            abort(); /* a config is only returned when nothing was wrong */
        }
        /* Printing must work on anything that loaded, and must load back. */
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        config_dump(c, m);
        fclose(m);
        cfg_errors_t again;
        cfg_errors_init(&again);
        config_t *back = config_load_buffer("dump.yaml", out, len, NULL, &again);
        if (!back) {
            abort();
        }
        config_destroy(&back);
        cfg_errors_finish(&again);
        free(out);
        config_destroy(&c);
    } else if (errs.count == 0) {
        abort(); /* a failed load always says why */
    }
    cfg_errors_finish(&errs);
    return 0;
}
