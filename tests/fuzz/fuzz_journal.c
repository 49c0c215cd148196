/*
 * fuzz_journal: libFuzzer target for journal recovery (proto/journal.h).
 *
 * DESIGN: the input becomes the newest segment file of a journal directory; journal_open must
 * then either refuse it (-EBADMSG with an explanation naming the file) or recover it, after
 * which every record must read back, the seqs must run from first to last, and one more append
 * must succeed and read back. Byte 0 picks the layout: bit 0 puts a valid closed segment
 * (seqs 1..3) in front, so the fuzzed file is "…04.seg" and seq continuity is checked across
 * files; bit 1 writes a valid segment header and uses the rest as records only (the header's
 * CRC is out of the fuzzer's reach otherwise). Any breach aborts; the sanitizers catch the rest.
 *
 *   scripts/fuzz 60 journal      (seeds in tests/fuzz/seeds/journal/)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal.h"

#define FUZZ_PRELUDE_LAST 3 /* seqs in the valid closed segment */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];
static unsigned char *s_prelude; /* a valid segment holding seqs 1..3 */
static size_t s_prelude_len;

static void
s_clear(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%020d.seg", s_dir, 1);
    (void) unlink(path);
    snprintf(path, sizeof path, "%s/%020d.seg", s_dir, FUZZ_PRELUDE_LAST + 1);
    (void) unlink(path);
}

static void
s_write(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t) size)) {
        abort();
    }
    close(fd);
}

static void
s_cleanup(void)
{
    char path[128];
    s_clear();
    snprintf(path, sizeof path, "%s/LOCK", s_dir);
    (void) unlink(path);
    (void) rmdir(s_dir);
}

static void
s_init(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/fuzz_journal.XXXXXX");
    if (!mkdtemp(s_dir)) {
        abort();
    }
    atexit(s_cleanup);
    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    journal_t *j = NULL;
    if (journal_open(s_dir, &o, &j, NULL, 0) != 0) {
        abort();
    }
    for (uint64_t seq = 1; seq <= FUZZ_PRELUDE_LAST; seq++) {
        if (journal_append(j, seq, "trade.x.spot.Y", "payload", 7) != 0) {
            abort();
        }
    }
    journal_close(&j);
    char path[128];
    snprintf(path, sizeof path, "%s/%020d.seg", s_dir, 1);
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        abort();
    }
    s_prelude_len = (size_t) ftell(f);
    rewind(f);
    s_prelude = malloc(s_prelude_len);
    if (fread(s_prelude, 1, s_prelude_len, f) != s_prelude_len) {
        abort();
    }
    fclose(f);
    s_clear();
}

/* A valid segment header for first_seq, built the way journal.c does (layout in durability.md). */
static void
s_header(unsigned char *h, uint64_t first_seq)
{
    memset(h, 0, JOURNAL_SEG_HEADER);
    memcpy(h, "TPJRNL1\n", 8);
    h[8] = 1;
    h[12] = JOURNAL_SEG_HEADER;
    for (int i = 0; i < 8; i++) {
        h[16 + i] = (unsigned char) (first_seq >> (8 * i));
    }
    uint32_t crc = crc32c_compute(h, 36);
    for (int i = 0; i < 4; i++) {
        h[36 + i] = (unsigned char) (crc >> (8 * i));
    }
}

static void
s_check_journal(journal_t *j)
{
    uint64_t first = journal_first_seq(j);
    uint64_t last = journal_last_seq(j);
    if (first == 0 || first > last + 1) {
        abort();
    }
    journal_iter_t *it = NULL;
    if (journal_iter_new(j, first, &it, NULL, 0) != 0) {
        abort();
    }
    journal_record_t rec;
    uint64_t want = first;
    int rc;
    while ((rc = journal_iter_next(it, &rec)) == 1) {
        if (rec.seq != want++ || rec.topic_len > JOURNAL_TOPIC_MAX) {
            abort();
        }
    }
    /* Recovery checked every CRC of the newest segment; the prelude is valid. */
    if (rc != 0 || want != last + 1) {
        abort();
    }
    if (journal_append(j, last + 1, "t", "z", 1) != 0) {
        abort();
    }
    if (journal_iter_next(it, &rec) != 1 || rec.seq != last + 1 || rec.size != 1) {
        abort();
    }
    journal_iter_destroy(&it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_prelude) {
        s_init();
    }
    if (size == 0) {
        return 0;
    }
    bool prelude = data[0] & 1;
    bool header = data[0] & 2;
    data++;
    size--;
    uint64_t first = prelude ? FUZZ_PRELUDE_LAST + 1 : 1;
    char path[128];
    if (prelude) {
        snprintf(path, sizeof path, "%s/%020d.seg", s_dir, 1);
        s_write(path, s_prelude, s_prelude_len);
    }
    snprintf(path, sizeof path, "%s/%020llu.seg", s_dir, (unsigned long long) first);
    if (header) {
        unsigned char *buf = malloc(JOURNAL_SEG_HEADER + size);
        s_header(buf, first);
        memcpy(buf + JOURNAL_SEG_HEADER, data, size);
        s_write(path, buf, JOURNAL_SEG_HEADER + size);
        free(buf);
    } else {
        s_write(path, data, size);
    }

    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    journal_t *j = NULL;
    char err[JOURNAL_ERROR_MAX];
    int rc = journal_open(s_dir, &o, &j, err, sizeof err);
    if (rc == 0) {
        s_check_journal(j);
        journal_close(&j);
    } else if (rc != -EBADMSG || !strstr(err, s_dir)) {
        abort();
    }
    s_clear();
    return 0;
}
