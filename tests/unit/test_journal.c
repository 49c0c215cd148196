/*
 * test_journal: segment files, recovery (torn tail, corrupt middle), fsync policies, retention,
 * seeking by seq, and seq continuity across reopen. Every test works in its own temp directory.
 */
#include "journal.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"

#define ERR_MAX JOURNAL_ERROR_MAX

static char s_dir[256];
static int64_t s_fake_now;

static int64_t
s_fake_clock(void *arg)
{
    (void) arg;
    return s_fake_now;
}

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void
setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/test_journal.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    s_fake_now = 1700000000LL * CLOCK_NS_PER_SEC;
}

static void
teardown(void)
{
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Deterministic record content for seq: sizes vary from 1 to 700 bytes. */
static size_t
s_payload(uint64_t seq, unsigned char *buf)
{
    size_t n = 1 + (size_t) ((seq * 7919) % 700);
    for (size_t i = 0; i < n; i++) {
        buf[i] = (unsigned char) (seq * 31 + i * 7);
    }
    return n;
}

static void
s_topic(uint64_t seq, char *buf, size_t size)
{
    snprintf(buf, size, "trade.binance.spot.SYM%" PRIu64, seq % 7);
}

static void
s_opts(journal_opts_t *o, journal_fsync_t fsync, int64_t segment_size)
{
    journal_opts_default(o);
    o->fsync = fsync;
    o->segment_size = segment_size;
    o->retain_size = 0;
    o->retain_age_ns = 0;
    o->clock = s_fake_clock;
}

static journal_t *
s_open(const journal_opts_t *o)
{
    journal_t *j = NULL;
    char err[ERR_MAX];
    int rc = journal_open(s_dir, o, &j, err, sizeof err);
    ck_assert_msg(rc == 0, "journal_open: %d %s", rc, err);
    return j;
}

static void
s_append_range(journal_t *j, uint64_t from, uint64_t to)
{
    unsigned char payload[1024];
    char topic[64];
    for (uint64_t seq = from; seq <= to; seq++) {
        size_t n = s_payload(seq, payload);
        s_topic(seq, topic, sizeof topic);
        ck_assert_int_eq(journal_append(j, seq, topic, payload, n), 0);
    }
}

/* Read [from, to] back and check every byte; then the iterator must be at the end. */
static void
s_check_range(journal_t *j, uint64_t from, uint64_t to)
{
    journal_iter_t *it = NULL;
    char err[ERR_MAX];
    ck_assert_int_eq(journal_iter_new(j, from, &it, err, sizeof err), 0);
    unsigned char want[1024];
    char topic[64];
    for (uint64_t seq = from; seq <= to; seq++) {
        journal_record_t rec;
        int rc = journal_iter_next(it, &rec);
        ck_assert_msg(rc == 1, "seq %" PRIu64 ": %d %s", seq, rc, journal_iter_error(it));
        ck_assert_uint_eq(rec.seq, seq);
        size_t n = s_payload(seq, want);
        ck_assert_uint_eq(rec.size, n);
        ck_assert_int_eq(memcmp(rec.payload, want, n), 0);
        s_topic(seq, topic, sizeof topic);
        ck_assert_str_eq(rec.topic, topic);
        ck_assert_uint_eq(rec.topic_len, strlen(topic));
    }
    journal_record_t rec;
    ck_assert_int_eq(journal_iter_next(it, &rec), 0);
    journal_iter_destroy(&it);
    ck_assert_ptr_null(it);
}

/* Path of the newest segment and its size. */
static void
s_newest_segment(char *path, size_t size, off_t *ret_size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.seg | tail -1", s_dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(path, (int) size, p));
    pclose(p);
    path[strcspn(path, "\n")] = '\0';
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    *ret_size = st.st_size;
}

static size_t
s_count_segments(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.seg | wc -l", s_dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    unsigned long n = 0;
    ck_assert_int_eq(fscanf(p, "%lu", &n), 1);
    pclose(p);
    return n;
}

/* Offset of record seq in a journal holding 1.. in one segment. */
static off_t
s_record_offset(uint64_t seq)
{
    unsigned char payload[1024];
    char topic[64];
    off_t off = JOURNAL_SEG_HEADER;
    for (uint64_t s = 1; s < seq; s++) {
        s_topic(s, topic, sizeof topic);
        off += JOURNAL_REC_HEADER + (off_t) strlen(topic) + (off_t) s_payload(s, payload);
    }
    return off;
}

static void
s_flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char b;
    ck_assert_int_eq(pread(fd, &b, 1, off), 1);
    b ^= 0x5A;
    ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void
s_append_bytes(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t) n);
    close(fd);
}

START_TEST(test_journal_append_read_across_segments)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 0);
    ck_assert_uint_eq(journal_first_seq(j), 1);
    s_append_range(j, 1, 2000);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.appends, 2000);
    ck_assert_uint_gt(st.segments, 100);
    ck_assert_uint_eq(st.segments, s_count_segments());
    ck_assert_uint_eq(st.rotations, st.segments - 1);
    ck_assert_uint_eq(journal_last_seq(j), 2000);
    s_check_range(j, 1, 2000);
    journal_close(&j);
    ck_assert_ptr_null(j);

    /* And the same from files alone. */
    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 2000);
    s_check_range(j, 1, 2000);
    journal_close(&j);
}
END_TEST

/* A record larger than a segment still goes in (alone), and the next one opens a new segment. */
START_TEST(test_journal_oversized_record)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 1024);
    journal_t *j = s_open(&o);
    static unsigned char big[8192];
    memset(big, 0xAB, sizeof big);
    ck_assert_int_eq(journal_append(j, 1, "t", "a", 1), 0);
    ck_assert_int_eq(journal_append(j, 2, "t", big, sizeof big), 0);
    ck_assert_int_eq(journal_append(j, 3, "t", "c", 1), 0);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.segments, 3);
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(j, 2, &it, NULL, 0), 0);
    journal_record_t rec;
    ck_assert_int_eq(journal_iter_next(it, &rec), 1);
    ck_assert_uint_eq(rec.size, sizeof big);
    ck_assert_int_eq(memcmp(rec.payload, big, sizeof big), 0);
    ck_assert_int_eq(journal_iter_next(it, &rec), 1);
    ck_assert_uint_eq(rec.seq, 3);
    journal_iter_destroy(&it);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_seq_continues_after_reopen)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_INTERVAL, 8192);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 100);
    journal_close(&j);

    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 100);
    ck_assert_uint_eq(journal_first_seq(j), 1);
    /* Only last + 1 is accepted: seq stays gap-free across restarts. */
    ck_assert_int_eq(journal_append(j, 100, "t", "x", 1), -EINVAL);
    ck_assert_int_eq(journal_append(j, 102, "t", "x", 1), -EINVAL);
    s_append_range(j, 101, 150);
    journal_close(&j);

    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 150);
    s_check_range(j, 1, 150);
    journal_close(&j);
}
END_TEST

/* Half a record at the end (a write cut by a crash) is cut off; the journal goes on. */
START_TEST(test_journal_torn_tail_truncated)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 1 << 20);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 40);
    journal_close(&j);

    /* Take a real record 41 from a second journal and keep only its first half. */
    char path[512];
    off_t size = 0;
    s_newest_segment(path, sizeof path, &size);
    unsigned char payload[1024];
    char topic[64];
    size_t n = s_payload(41, payload);
    s_topic(41, topic, sizeof topic);
    char other[300];
    snprintf(other, sizeof other, "%s/other", s_dir);
    journal_t *k = NULL;
    ck_assert_int_eq(journal_open(other, &o, &k, NULL, 0), 0);
    s_append_range(k, 1, 40);
    ck_assert_int_eq(journal_append(k, 41, topic, payload, n), 0);
    journal_close(&k);
    char kpath[600];
    snprintf(kpath, sizeof kpath, "%s/%020d.seg", other, 1);
    FILE *f = fopen(kpath, "rb");
    ck_assert_ptr_nonnull(f);
    size_t rec_len = JOURNAL_REC_HEADER + strlen(topic) + n;
    unsigned char *rec = malloc(rec_len);
    ck_assert_int_eq(fseeko(f, size, SEEK_SET), 0);
    ck_assert_uint_eq(fread(rec, 1, rec_len, f), rec_len);
    fclose(f);
    s_append_bytes(path, rec, rec_len / 2);
    free(rec);

    j = s_open(&o);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.truncated_bytes, rec_len / 2);
    ck_assert_uint_eq(journal_last_seq(j), 40);
    s_append_range(j, 41, 60);
    s_check_range(j, 1, 60);
    journal_close(&j);
}
END_TEST

/* Other torn tails: a header cut short, zeros, a last record whose CRC does not match. */
START_TEST(test_journal_torn_tail_variants)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 1 << 20);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 20);
    journal_close(&j);
    char path[512];
    off_t size = 0;
    s_newest_segment(path, sizeof path, &size);

    /* 10 bytes of a header. */
    s_append_bytes(path, "\x54\x50\x52\x01\x00\x00\x00\x00\x15\x00", 10);
    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 20);
    journal_close(&j);

    /* A run of zeros, as a file system may leave after a crash. */
    static const unsigned char zeros[300];
    s_append_bytes(path, zeros, sizeof zeros);
    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 20);
    journal_close(&j);

    /* The last record's payload damaged: that record is dropped, the rest kept. */
    s_flip_byte(path, s_record_offset(20) + JOURNAL_REC_HEADER + 30);
    j = s_open(&o);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_gt(st.truncated_bytes, 0);
    ck_assert_uint_eq(journal_last_seq(j), 19);
    s_append_range(j, 20, 25);
    s_check_range(j, 1, 25);
    journal_close(&j);
}
END_TEST

/* A damaged record followed by good ones: open is refused, naming the file and the offset. */
START_TEST(test_journal_corrupt_middle_refused)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 1 << 20);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 50);
    journal_close(&j);
    char path[512];
    off_t size = 0;
    s_newest_segment(path, sizeof path, &size);
    off_t bad = s_record_offset(10);
    s_flip_byte(path, bad + JOURNAL_REC_HEADER + 5);

    char err[ERR_MAX];
    ck_assert_int_eq(journal_open(s_dir, &o, &j, err, sizeof err), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(err, path));
    char at[64];
    snprintf(at, sizeof at, "offset %jd", (intmax_t) bad);
    ck_assert_msg(strstr(err, at), "'%s' lacks '%s'", err, at);
    ck_assert_ptr_nonnull(strstr(err, "bad CRC"));
    /* Nothing was cut. */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, size);

    /* A damaged length field in the middle too (lengths cannot be trusted). */
    s_flip_byte(path, bad + JOURNAL_REC_HEADER + 5);
    s_flip_byte(path, s_record_offset(30) + 26);
    ck_assert_int_eq(journal_open(s_dir, &o, &j, err, sizeof err), -EBADMSG);
    snprintf(at, sizeof at, "offset %jd", (intmax_t) s_record_offset(30));
    ck_assert_msg(strstr(err, at), "'%s' lacks '%s'", err, at);
}
END_TEST

/* Damage in an older segment is found by the iterator that reaches it, with file and offset. */
START_TEST(test_journal_corrupt_closed_segment_reported)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 300);
    journal_close(&j);
    char first[512];
    snprintf(first, sizeof first, "%s/%020d.seg", s_dir, 1);
    s_flip_byte(first, s_record_offset(3) + JOURNAL_REC_HEADER + 40);

    j = s_open(&o);
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(j, 1, &it, NULL, 0), 0);
    journal_record_t rec;
    ck_assert_int_eq(journal_iter_next(it, &rec), 1);
    ck_assert_int_eq(journal_iter_next(it, &rec), 1);
    ck_assert_int_eq(journal_iter_next(it, &rec), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(journal_iter_error(it), first));
    char at[64];
    snprintf(at, sizeof at, "offset %jd", (intmax_t) s_record_offset(3));
    ck_assert_ptr_nonnull(strstr(journal_iter_error(it), at));
    /* It stays there rather than skipping data. */
    ck_assert_int_eq(journal_iter_next(it, &rec), -EBADMSG);
    journal_iter_destroy(&it);
    journal_close(&j);
}
END_TEST

/* Segments whose seqs do not follow on (a file lost in between) are refused. */
START_TEST(test_journal_missing_segment_refused)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 300);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_gt(st.segments, 3);
    journal_close(&j);
    /* Remove the second-newest segment. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm $(ls %s/*.seg | tail -2 | head -1)", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    char err[ERR_MAX];
    ck_assert_int_eq(journal_open(s_dir, &o, &j, err, sizeof err), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(err, "next segment starts"));
}
END_TEST

/* A segment created but cut before its header was complete is rewritten. */
START_TEST(test_journal_torn_new_segment_header)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 50);
    uint64_t last = journal_last_seq(j);
    journal_close(&j);
    char path[600];
    snprintf(path, sizeof path, "%s/%020" PRIu64 ".seg", s_dir, last + 1);
    s_append_bytes(path, "TPJR", 4);
    j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), last);
    s_append_range(j, last + 1, last + 10);
    s_check_range(j, 1, last + 10);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_fsync_every)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_EVERY, 1 << 20);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 25);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 25);
    ck_assert_int_eq(journal_tick(j), 0);
    ck_assert_int_eq(journal_sync(j), 0);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 25);
    journal_close(&j);
    j = s_open(&o);
    s_check_range(j, 1, 25);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_fsync_interval)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_INTERVAL, 1 << 20);
    o.fsync_interval_ns = 10 * CLOCK_NS_PER_MS;
    journal_t *j = s_open(&o);
    journal_stats_t st;
    s_append_range(j, 1, 5);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 0);
    s_fake_now += 4 * CLOCK_NS_PER_MS;
    s_append_range(j, 6, 6);
    ck_assert_int_eq(journal_tick(j), 0);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 0);
    /* Due: the next append syncs... */
    s_fake_now += 7 * CLOCK_NS_PER_MS;
    s_append_range(j, 7, 7);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 1);
    /* ...and so does the timer when no append comes. */
    s_append_range(j, 8, 8);
    s_fake_now += 11 * CLOCK_NS_PER_MS;
    ck_assert_int_eq(journal_tick(j), 0);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 2);
    /* Nothing dirty: no sync. */
    s_fake_now += 11 * CLOCK_NS_PER_MS;
    ck_assert_int_eq(journal_tick(j), 0);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 2);
    journal_close(&j);
    j = s_open(&o);
    s_check_range(j, 1, 8);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_fsync_none)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 200);
    s_fake_now += CLOCK_NS_PER_HOUR;
    ck_assert_int_eq(journal_tick(j), 0);
    ck_assert_int_eq(journal_sync(j), 0);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.syncs, 0);
    ck_assert_uint_gt(st.rotations, 0);
    journal_close(&j);
    j = s_open(&o);
    s_check_range(j, 1, 200);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_retention_by_size)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    o.retain_size = 16384;
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 1000);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_gt(st.deleted, 0);
    ck_assert_int_le(st.size_bytes, o.retain_size);
    ck_assert_uint_eq(st.segments, s_count_segments());
    uint64_t first = journal_first_seq(j);
    ck_assert_uint_gt(first, 1);
    s_check_range(j, first, 1000);
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(j, first - 1, &it, NULL, 0), -ERANGE);
    ck_assert_int_eq(journal_iter_new(j, 1002, &it, NULL, 0), -ERANGE);
    journal_close(&j);

    /* Reopen with a smaller limit: applied at open. */
    o.retain_size = 8192;
    j = s_open(&o);
    journal_stats(j, &st);
    ck_assert_int_le(st.size_bytes, o.retain_size);
    ck_assert_uint_gt(journal_first_seq(j), first);
    ck_assert_uint_eq(journal_last_seq(j), 1000);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_retention_by_age)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    o.retain_age_ns = CLOCK_NS_PER_HOUR;
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 100);
    uint64_t old_last = journal_last_seq(j);
    s_fake_now += 30 * 60 * CLOCK_NS_PER_SEC;
    s_append_range(j, 101, 200);
    ck_assert_int_eq(journal_tick(j), 0);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.deleted, 0);
    /* An hour after the first batch: segments holding only it go; the rest stays. */
    s_fake_now += 31 * 60 * CLOCK_NS_PER_SEC;
    ck_assert_int_eq(journal_tick(j), 0);
    journal_stats(j, &st);
    ck_assert_uint_gt(st.deleted, 0);
    ck_assert_uint_le(journal_first_seq(j), 101);
    ck_assert_uint_gt(journal_first_seq(j), 1);
    s_check_range(j, journal_first_seq(j), 200);
    /* Much later everything old goes, but never the segment being written. */
    s_fake_now += 10 * CLOCK_NS_PER_HOUR;
    ck_assert_int_eq(journal_retain(j), (int) st.segments - 1);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.segments, 1);
    ck_assert_uint_eq(journal_last_seq(j), 200);
    ck_assert_uint_gt(journal_first_seq(j), old_last);
    journal_close(&j);
}
END_TEST

/* After a restart a closed segment's age is its file's mtime. */
START_TEST(test_journal_retention_by_age_at_open)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    o.clock = NULL;
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 300);
    journal_stats_t st;
    journal_stats(j, &st);
    size_t segments = st.segments;
    journal_close(&j);
    /* Age the two oldest files by two days. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "touch -d '2 days ago' $(ls %s/*.seg | head -2)", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    o.retain_age_ns = CLOCK_NS_PER_DAY;
    j = s_open(&o);
    journal_stats(j, &st);
    ck_assert_uint_eq(st.deleted, 2);
    ck_assert_uint_eq(st.segments, segments - 2);
    s_check_range(j, journal_first_seq(j), 300);
    journal_close(&j);
}
END_TEST

/* Retention waits for an iterator still reading the oldest segment. */
START_TEST(test_journal_retention_spares_readers)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    o.retain_age_ns = CLOCK_NS_PER_HOUR;
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 300);
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(j, 2, &it, NULL, 0), 0);
    s_fake_now += CLOCK_NS_PER_DAY;
    ck_assert_int_eq(journal_retain(j), 0);
    ck_assert_uint_eq(journal_first_seq(j), 1);
    /* The reader moves on: what lies behind it may go now, and it still reads everything. */
    journal_record_t rec;
    for (uint64_t seq = 2; seq <= 150; seq++) {
        ck_assert_int_eq(journal_iter_next(it, &rec), 1);
        ck_assert_uint_eq(rec.seq, seq);
    }
    ck_assert_int_gt(journal_retain(j), 0);
    ck_assert_uint_gt(journal_first_seq(j), 1);
    ck_assert_uint_le(journal_first_seq(j), 151);
    for (uint64_t seq = 151; seq <= 300; seq++) {
        ck_assert_int_eq(journal_iter_next(it, &rec), 1);
        ck_assert_uint_eq(rec.seq, seq);
    }
    journal_iter_destroy(&it);
    ck_assert_int_ge(journal_retain(j), 0);
    journal_stats_t st;
    journal_stats(j, &st);
    ck_assert_uint_eq(st.segments, 1);
    journal_close(&j);
}
END_TEST

/* Seek to any seq (binary search over segments, then the sparse index), and follow the tail. */
START_TEST(test_journal_seek_by_seq)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 1 << 20);
    journal_t *j = s_open(&o);
    s_append_range(j, 1, 5000);
    journal_close(&j);
    /* Reopen with small segments appended after big ones: both index paths. */
    o.segment_size = 8192;
    j = s_open(&o);
    s_append_range(j, 5001, 6000);
    unsigned seed = 7;
    for (int k = 0; k < 200; k++) {
        uint64_t seq = 1 + (uint64_t) rand_r(&seed) % 6000;
        journal_iter_t *it = NULL;
        ck_assert_int_eq(journal_iter_new(j, seq, &it, NULL, 0), 0);
        ck_assert_uint_eq(journal_iter_next_seq(it), seq);
        journal_record_t rec;
        ck_assert_int_eq(journal_iter_next(it, &rec), 1);
        ck_assert_uint_eq(rec.seq, seq);
        unsigned char want[1024];
        size_t n = s_payload(seq, want);
        ck_assert_uint_eq(rec.size, n);
        ck_assert_int_eq(memcmp(rec.payload, want, n), 0);
        journal_iter_destroy(&it);
    }
    /* At the end: nothing yet, then what is appended. */
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(j, 6001, &it, NULL, 0), 0);
    journal_record_t rec;
    ck_assert_int_eq(journal_iter_next(it, &rec), 0);
    s_append_range(j, 6001, 6100);
    for (uint64_t seq = 6001; seq <= 6100; seq++) {
        ck_assert_int_eq(journal_iter_next(it, &rec), 1);
        ck_assert_uint_eq(rec.seq, seq);
    }
    ck_assert_int_eq(journal_iter_next(it, &rec), 0);
    journal_iter_destroy(&it);
    journal_close(&j);
}
END_TEST

START_TEST(test_journal_bad_arguments)
{
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    char topic[JOURNAL_TOPIC_MAX + 2];
    memset(topic, 'a', sizeof topic - 1);
    topic[sizeof topic - 1] = '\0';
    ck_assert_int_eq(journal_append(j, 1, topic, "x", 1), -EINVAL);
    ck_assert_int_eq(journal_append(j, 0, "t", "x", 1), -EINVAL);
    ck_assert_int_eq(journal_append(j, 2, "t", "x", 1), -EINVAL);
    ck_assert_int_eq(journal_append(j, 1, "t", NULL, 0), 0);
    ck_assert_uint_eq(journal_last_seq(j), 1);

    /* One process at a time. */
    journal_t *k = NULL;
    char err[ERR_MAX];
    ck_assert_int_eq(journal_open(s_dir, &o, &k, err, sizeof err), -EBUSY);
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    journal_close(&j);

    o.segment_size = 10;
    ck_assert_int_eq(journal_open(s_dir, &o, &k, err, sizeof err), -EINVAL);

    char buf[64];
    ck_assert_int_gt(journal_path("/var/lib/tickpipe", "collector-a", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "/var/lib/tickpipe/journal/collector-a");
    ck_assert_int_eq(journal_path("/s", "a/b", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(journal_path("/s", "..", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(journal_path("/s", "", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(journal_path("/s", "x", buf, 4), -ENOSPC);
}
END_TEST

/* Whatever garbage the directory holds besides segments is left alone. */
START_TEST(test_journal_ignores_other_files)
{
    char path[512];
    snprintf(path, sizeof path, "%s/notes.txt", s_dir);
    FILE *f = fopen(path, "w");
    fputs("hello", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/123.seg", s_dir);
    f = fopen(path, "w");
    fclose(f);
    journal_opts_t o;
    s_opts(&o, JOURNAL_FSYNC_NONE, 4096);
    journal_t *j = s_open(&o);
    ck_assert_uint_eq(journal_last_seq(j), 0);
    s_append_range(j, 1, 10);
    s_check_range(j, 1, 10);
    journal_close(&j);
}
END_TEST

/* The config's journal section maps onto the options. */
START_TEST(test_journal_opts_from_config)
{
    config_journal_t c = {.fsync = CONFIG_FSYNC_EVERY,
                          .fsync_interval_ns = 5,
                          .segment_size = 1 << 20,
                          .retain_size = 1 << 22,
                          .retain_age_ns = 77};
    journal_opts_t o;
    journal_opts_from_config(&c, &o);
    ck_assert_int_eq(o.fsync, JOURNAL_FSYNC_EVERY);
    ck_assert_int_eq(o.fsync_interval_ns, 5);
    ck_assert_int_eq(o.segment_size, 1 << 20);
    ck_assert_int_eq(o.retain_size, 1 << 22);
    ck_assert_int_eq(o.retain_age_ns, 77);
    c.fsync = CONFIG_FSYNC_NONE;
    journal_opts_from_config(&c, &o);
    ck_assert_int_eq(o.fsync, JOURNAL_FSYNC_NONE);
}
END_TEST

static Suite *
journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_journal_append_read_across_segments);
    tcase_add_test(tc, test_journal_oversized_record);
    tcase_add_test(tc, test_journal_seq_continues_after_reopen);
    tcase_add_test(tc, test_journal_torn_tail_truncated);
    tcase_add_test(tc, test_journal_torn_tail_variants);
    tcase_add_test(tc, test_journal_corrupt_middle_refused);
    tcase_add_test(tc, test_journal_corrupt_closed_segment_reported);
    tcase_add_test(tc, test_journal_missing_segment_refused);
    tcase_add_test(tc, test_journal_torn_new_segment_header);
    tcase_add_test(tc, test_journal_fsync_every);
    tcase_add_test(tc, test_journal_fsync_interval);
    tcase_add_test(tc, test_journal_fsync_none);
    tcase_add_test(tc, test_journal_retention_by_size);
    tcase_add_test(tc, test_journal_retention_by_age);
    tcase_add_test(tc, test_journal_retention_by_age_at_open);
    tcase_add_test(tc, test_journal_retention_spares_readers);
    tcase_add_test(tc, test_journal_seek_by_seq);
    tcase_add_test(tc, test_journal_bad_arguments);
    tcase_add_test(tc, test_journal_ignores_other_files);
    tcase_add_test(tc, test_journal_opts_from_config);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(journal_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
