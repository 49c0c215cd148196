/*
 * journal: append-only segment files of CRC32C-checked records, open-time recovery, retention
 * by size and age, and iterators that seek by seq.
 *
 * DESIGN: the process writes records with pwritev(2) at the committed end of the newest segment
 * and advances that end only once the whole record is written (and synced, when the policy
 * says so); a failed write is cut back with ftruncate(2), so the committed end always falls on a
 * record boundary and iterators, which never read past it, never see half a record. Integers
 * in files are little-endian.
 */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "crc32c.h"
#include "xalloc.h"

#define JOURNAL_SEG_MAGIC     "TPJRNL1\n"           /* first bytes of every segment */
#define JOURNAL_SEG_MAGIC_LEN 8                     /* bytes of the magic */
#define JOURNAL_VERSION       1                     /* segment format version */
#define JOURNAL_REC_MAGIC     0x01525054u           /* "TPR\x01" as stored (little-endian) */
#define JOURNAL_SEQ_DIGITS    20                    /* digits of the seq in a segment name */
#define JOURNAL_SEG_SUFFIX    ".seg"                /* segment file name suffix */
#define JOURNAL_LOCK_NAME     "LOCK"                /* flock(2) target in the directory */
#define JOURNAL_READ_CHUNK    ((size_t) 256 * 1024) /* bytes read ahead by readers */
#define JOURNAL_DIR_MODE      0755                  /* directories created by journal_open */
#define JOURNAL_FILE_MODE     0644                  /* segment and lock files */
#define JOURNAL_PATH_MAX      4096                  /* bytes of a file path */
#define JOURNAL_SEG_CAP_MIN   8                     /* first allocation of the segment array */
#define JOURNAL_IDX_CAP_MIN   16                    /* first allocation of a segment's index */
#define JOURNAL_BYTE_BITS     8                     /* bits per byte in the little-endian helpers */

/* Segment header layout. */
#define SEG_OFF_VERSION  8
#define SEG_OFF_HDRSIZE  12
#define SEG_OFF_FIRSTSEQ 16
#define SEG_OFF_CREATED  24
#define SEG_OFF_RESERVED 32
#define SEG_OFF_CRC      36

/* Record header layout; the CRC covers everything from REC_OFF_SEQ to the end of the payload. */
#define REC_OFF_MAGIC    0
#define REC_OFF_CRC      4
#define REC_OFF_SEQ      8
#define REC_OFF_TS       16
#define REC_OFF_PAYLEN   24
#define REC_OFF_TOPICLEN 28
#define REC_OFF_FLAGS    30

#define JOURNAL_DEFAULT_INTERVAL_NS (100 * CLOCK_NS_PER_MS)
#define JOURNAL_DEFAULT_SEGMENT     ((int64_t) 64 * 1024 * 1024)
#define JOURNAL_DEFAULT_RETAIN_SIZE ((int64_t) 10 * 1024 * 1024 * 1024)
#define JOURNAL_DEFAULT_RETAIN_AGE  (7 * CLOCK_NS_PER_DAY)

typedef struct {
    uint64_t seq; /* seq of the record at off */
    int64_t off;  /* byte offset of a record header */
} journal_idx_t;

typedef struct {
    uint64_t first_seq; /* from the file name, equal to the header's */
    uint64_t last_seq;  /* last record's seq (first_seq - 1 when empty); valid once scanned */
    int64_t size;       /* committed bytes: header plus whole records */
    int64_t last_ts_ns; /* last write: the last record's time, or the file's mtime */
    bool scanned;       /* structure checked, index and last_seq known */
    uint32_t readers;   /* iterators positioned in this segment: retention skips it */
    journal_idx_t *idx; /* sparse (seq, offset) index, ascending */
    size_t idx_count;   /* used entries of idx */
    size_t idx_cap;     /* allocated entries of idx */
    char *path;         /* full path of the file */
} journal_seg_t;

struct journal {
    char *dir;             /* directory path */
    journal_opts_t opts;   /* options, copied */
    int lock_fd;           /* holds the flock */
    int dir_fd;            /* for fsync after creating and deleting segments */
    int fd;                /* newest segment, read-write */
    journal_seg_t **segs;  /* segments, oldest first; the last one is written */
    size_t seg_count;      /* used entries of segs */
    size_t seg_cap;        /* allocated entries of segs */
    uint64_t last_seq;     /* last seq appended */
    int64_t total_bytes;   /* bytes in all segments */
    bool dirty;            /* written since the last fdatasync */
    int64_t last_sync_ns;  /* clock at the last fdatasync (or open) */
    journal_stats_t stats; /* counters */
};

/* A read-ahead window over one file. */
typedef struct {
    int fd;        /* file being read */
    char *buf;     /* window bytes */
    size_t cap;    /* allocated bytes of buf */
    int64_t start; /* file offset of buf[0] */
    size_t len;    /* valid bytes in buf */
} journal_reader_t;

struct journal_iter {
    journal_t *journal;                /* borrowed */
    journal_seg_t *seg;                /* segment being read, pinned (readers + 1) */
    journal_reader_t rd;               /* window over seg's file */
    int64_t off;                       /* offset of the next record in seg */
    uint64_t next_seq;                 /* seq of the next record */
    char topic[JOURNAL_TOPIC_MAX + 1]; /* last record's topic, NUL-terminated */
    char err[JOURNAL_ERROR_MAX];       /* last -EBADMSG explanation */
};

/* A record header, decoded. */
typedef struct {
    uint64_t seq;         /* record seq */
    int64_t ts_ns;        /* append time */
    uint32_t payload_len; /* bytes of payload */
    uint16_t topic_len;   /* bytes of topic */
    int64_t total;        /* header + topic + payload */
} journal_rec_t;

/* Outcome of checking one record. */
typedef enum {
    JOURNAL_CHECK_OK = 0,    /* a whole, valid record with the expected seq */
    JOURNAL_CHECK_DAMAGED,   /* cut short, bad magic, bad lengths or bad CRC */
    JOURNAL_CHECK_MISPLACED, /* valid CRC but not the expected seq: never a torn write */
    JOURNAL_CHECK_COUNT
} journal_check_t;

/* ---- little-endian integers ---- */

static void
s_put_le(unsigned char *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++) {
        p[i] = (unsigned char) (v >> (JOURNAL_BYTE_BITS * i));
    }
}

static uint64_t
s_get_le(const unsigned char *p, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = bytes; i > 0; i--) {
        v = (v << JOURNAL_BYTE_BITS) | p[i - 1];
    }
    return v;
}

static void
s_put_u16(unsigned char *p, uint16_t v)
{
    s_put_le(p, v, sizeof v);
}

static void
s_put_u32(unsigned char *p, uint32_t v)
{
    s_put_le(p, v, sizeof v);
}

static void
s_put_u64(unsigned char *p, uint64_t v)
{
    s_put_le(p, v, sizeof v);
}

static uint16_t
s_get_u16(const unsigned char *p)
{
    return (uint16_t) s_get_le(p, sizeof(uint16_t));
}

static uint32_t
s_get_u32(const unsigned char *p)
{
    return (uint32_t) s_get_le(p, sizeof(uint32_t));
}

static uint64_t
s_get_u64(const unsigned char *p)
{
    return s_get_le(p, sizeof(uint64_t));
}

static void __attribute__((format(printf, 3, 4)))
s_set_err(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

/* ---- options and paths ---- */

void
journal_opts_default(journal_opts_t *ret)
{
    *ret = (journal_opts_t){
        .fsync = JOURNAL_FSYNC_INTERVAL,
        .fsync_interval_ns = JOURNAL_DEFAULT_INTERVAL_NS,
        .segment_size = JOURNAL_DEFAULT_SEGMENT,
        .retain_size = JOURNAL_DEFAULT_RETAIN_SIZE,
        .retain_age_ns = JOURNAL_DEFAULT_RETAIN_AGE,
        .clock = NULL,
        .clock_arg = NULL,
    };
}

void
journal_opts_from_config(const config_journal_t *cfg, journal_opts_t *ret)
{
    journal_opts_default(ret);
    switch ((config_fsync_t) cfg->fsync) {
    case CONFIG_FSYNC_EVERY:
        ret->fsync = JOURNAL_FSYNC_EVERY;
        break;
    case CONFIG_FSYNC_INTERVAL:
        ret->fsync = JOURNAL_FSYNC_INTERVAL;
        break;
    case CONFIG_FSYNC_NONE:
        ret->fsync = JOURNAL_FSYNC_NONE;
        break;
    case CONFIG_FSYNC_COUNT:
        break;
    }
    ret->fsync_interval_ns = cfg->fsync_interval_ns;
    ret->segment_size = cfg->segment_size;
    ret->retain_size = cfg->retain_size;
    ret->retain_age_ns = cfg->retain_age_ns;
}

int
journal_path(const char *state_dir, const char *source, char *buf, size_t size)
{
    if (!source || !*source || strchr(source, '/') || strcmp(source, ".") == 0
        || strcmp(source, "..") == 0) {
        return -EINVAL;
    }
    int n = snprintf(buf, size, "%s/journal/%s", state_dir, source);
    if (n < 0 || (size_t) n >= size) {
        return -ENOSPC;
    }
    return n;
}

static int64_t
s_now(const journal_t *self)
{
    return self->opts.clock ? self->opts.clock(self->opts.clock_arg) : clock_now_ns();
}

/* ---- reader ---- */

static void
s_reader_init(journal_reader_t *r, int fd)
{
    *r = (journal_reader_t){.fd = fd, .buf = NULL, .cap = 0, .start = 0, .len = 0};
}

static void
s_reader_finish(journal_reader_t *r)
{
    free(r->buf);
    s_reader_init(r, -1);
}

/*
 * Point *ret at n bytes from off, reading ahead up to limit (never beyond: bytes past the
 * committed end may be a write in progress). Returns 0, -ENODATA when off + n > limit, or -errno.
 */
static int
s_reader_get(journal_reader_t *r, int64_t off, size_t n, int64_t limit, const unsigned char **ret)
{
    if (off < 0 || off > limit || (int64_t) n > limit - off) {
        return -ENODATA;
    }
    if (off >= r->start && off + (int64_t) n <= r->start + (int64_t) r->len) {
        *ret = (const unsigned char *) r->buf + (off - r->start);
        return 0;
    }
    size_t want = n > JOURNAL_READ_CHUNK ? n : JOURNAL_READ_CHUNK;
    if ((int64_t) want > limit - off) {
        want = (size_t) (limit - off);
    }
    if (want > r->cap) {
        free(r->buf);
        r->buf = xmalloc(want);
        r->cap = want;
    }
    r->start = off;
    r->len = 0;
    while (r->len < want) {
        ssize_t got = pread(r->fd, r->buf + r->len, want - r->len, off + (int64_t) r->len);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            int rc = -errno;
            r->len = 0;
            return rc;
        }
        if (got == 0) {
            break;
        }
        r->len += (size_t) got;
    }
    if (r->len < n) {
        /* The file is shorter than the committed end: someone cut it behind our back. */
        r->len = 0;
        return -ENODATA;
    }
    *ret = (const unsigned char *) r->buf;
    return 0;
}

/* ---- records ---- */

static void
s_rec_header_encode(unsigned char *h, uint64_t seq, int64_t ts_ns, uint32_t payload_len,
                    uint16_t topic_len)
{
    s_put_u32(h + REC_OFF_MAGIC, JOURNAL_REC_MAGIC);
    s_put_u32(h + REC_OFF_CRC, 0);
    s_put_u64(h + REC_OFF_SEQ, seq);
    s_put_u64(h + REC_OFF_TS, (uint64_t) ts_ns);
    s_put_u32(h + REC_OFF_PAYLEN, payload_len);
    s_put_u16(h + REC_OFF_TOPICLEN, topic_len);
    s_put_u16(h + REC_OFF_FLAGS, 0);
}

/*
 * Check the record at off (limit = end of the readable bytes). expect_seq 0 accepts any seq.
 * With check_crc false only the header is read (the payload is trusted until an iterator reads
 * it). On JOURNAL_CHECK_OK *ret is filled; otherwise *ret_why says what is wrong.
 */
static journal_check_t
s_rec_check(journal_reader_t *r, int64_t off, int64_t limit, uint64_t expect_seq, bool check_crc,
            journal_rec_t *ret, const char **ret_why)
{
    const unsigned char *h = NULL;
    int rc = s_reader_get(r, off, JOURNAL_REC_HEADER, limit, &h);
    if (rc < 0) {
        *ret_why = rc == -ENODATA ? "record header cut short" : "read() failed";
        return JOURNAL_CHECK_DAMAGED;
    }
    if (s_get_u32(h + REC_OFF_MAGIC) != JOURNAL_REC_MAGIC) {
        *ret_why = "bad record magic";
        return JOURNAL_CHECK_DAMAGED;
    }
    journal_rec_t rec = {
        .seq = s_get_u64(h + REC_OFF_SEQ),
        .ts_ns = (int64_t) s_get_u64(h + REC_OFF_TS),
        .payload_len = s_get_u32(h + REC_OFF_PAYLEN),
        .topic_len = s_get_u16(h + REC_OFF_TOPICLEN),
    };
    uint32_t crc = s_get_u32(h + REC_OFF_CRC);
    uint16_t flags = s_get_u16(h + REC_OFF_FLAGS);
    if (flags != 0 || rec.topic_len > JOURNAL_TOPIC_MAX || rec.payload_len > JOURNAL_PAYLOAD_MAX
        || rec.seq == 0) {
        *ret_why = "bad record header";
        return JOURNAL_CHECK_DAMAGED;
    }
    rec.total = JOURNAL_REC_HEADER + (int64_t) rec.topic_len + (int64_t) rec.payload_len;
    if (rec.total > limit - off) {
        *ret_why = "record runs past the end of the file";
        return JOURNAL_CHECK_DAMAGED;
    }
    if (check_crc) {
        const unsigned char *all = NULL;
        rc = s_reader_get(r, off, (size_t) rec.total, limit, &all);
        if (rc < 0) {
            *ret_why = "read() failed";
            return JOURNAL_CHECK_DAMAGED;
        }
        if (crc32c_compute(all + REC_OFF_SEQ, (size_t) rec.total - REC_OFF_SEQ) != crc) {
            *ret_why = "bad CRC";
            return JOURNAL_CHECK_DAMAGED;
        }
    }
    if (expect_seq != 0 && rec.seq != expect_seq) {
        *ret_why = "seq out of order";
        return JOURNAL_CHECK_MISPLACED;
    }
    *ret = rec;
    return JOURNAL_CHECK_OK;
}

/* ---- segments ---- */

static void
s_seg_free(journal_seg_t *seg)
{
    if (!seg) {
        return;
    }
    free(seg->idx);
    free(seg->path);
    free(seg);
}

static journal_seg_t *
s_seg_new(const char *dir, uint64_t first_seq)
{
    char path[JOURNAL_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%0*" PRIu64 "%s", dir, JOURNAL_SEQ_DIGITS, first_seq,
                     JOURNAL_SEG_SUFFIX);
    if (n < 0 || (size_t) n >= sizeof path) {
        return NULL;
    }
    journal_seg_t *seg = xcalloc(1, sizeof *seg);
    seg->first_seq = first_seq;
    seg->last_seq = first_seq - 1;
    seg->path = xstrdup(path);
    return seg;
}

static void
s_seg_index_add(journal_seg_t *seg, uint64_t seq, int64_t off)
{
    if (seg->idx_count > 0 && off - seg->idx[seg->idx_count - 1].off < JOURNAL_INDEX_STRIDE) {
        return;
    }
    if (seg->idx_count == seg->idx_cap) {
        seg->idx_cap = seg->idx_cap ? seg->idx_cap * 2 : JOURNAL_IDX_CAP_MIN;
        seg->idx = xrealloc(seg->idx, seg->idx_cap * sizeof *seg->idx);
    }
    seg->idx[seg->idx_count++] = (journal_idx_t){.seq = seq, .off = off};
}

static void
s_seg_header_encode(unsigned char *h, uint64_t first_seq, int64_t created_ns)
{
    memset(h, 0, JOURNAL_SEG_HEADER);
    memcpy(h, JOURNAL_SEG_MAGIC, JOURNAL_SEG_MAGIC_LEN);
    s_put_u32(h + SEG_OFF_VERSION, JOURNAL_VERSION);
    s_put_u32(h + SEG_OFF_HDRSIZE, JOURNAL_SEG_HEADER);
    s_put_u64(h + SEG_OFF_FIRSTSEQ, first_seq);
    s_put_u64(h + SEG_OFF_CREATED, (uint64_t) created_ns);
    s_put_u32(h + SEG_OFF_RESERVED, 0);
    s_put_u32(h + SEG_OFF_CRC, crc32c_compute(h, SEG_OFF_CRC));
}

/* NULL when the header is sound, else why not. */
static const char *
s_seg_header_check(const unsigned char *h, uint64_t first_seq)
{
    if (memcmp(h, JOURNAL_SEG_MAGIC, JOURNAL_SEG_MAGIC_LEN) != 0) {
        return "not a journal segment (bad magic)";
    }
    if (s_get_u32(h + SEG_OFF_CRC) != crc32c_compute(h, SEG_OFF_CRC)) {
        return "segment header has a bad CRC";
    }
    if (s_get_u32(h + SEG_OFF_VERSION) != JOURNAL_VERSION
        || s_get_u32(h + SEG_OFF_HDRSIZE) != JOURNAL_SEG_HEADER) {
        return "unsupported segment version";
    }
    if (s_get_u64(h + SEG_OFF_FIRSTSEQ) != first_seq) {
        return "segment header's first seq differs from the file name";
    }
    return NULL;
}

static bool
s_is_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* Write a fresh header to fd (which is truncated first). */
static int
s_seg_write_header(int fd, uint64_t first_seq, int64_t created_ns)
{
    unsigned char h[JOURNAL_SEG_HEADER];
    s_seg_header_encode(h, first_seq, created_ns);
    if (ftruncate(fd, 0) < 0) {
        return -errno;
    }
    ssize_t n = pwrite(fd, h, sizeof h, 0);
    if (n < 0) {
        return -errno;
    }
    if ((size_t) n != sizeof h) {
        return -EIO;
    }
    return 0;
}

/* What scanning a segment found. */
typedef struct {
    int64_t end;        /* offset after the last good record */
    int64_t damage_off; /* offset of the first bad record, -1 when none */
    const char *why;    /* what is wrong there */
    bool misplaced;     /* the bad record has a valid CRC but the wrong seq */
    int64_t next_good;  /* offset of a valid record after the damage, -1 when none */
} journal_scan_t;

/*
 * Walk seg's records from the header to file_size, building its index and last_seq. With
 * check_crc every record's CRC is verified and, after damage, the rest of the file is searched
 * for a valid record (so the caller can tell a torn tail from a corrupt middle).
 */
static int
s_seg_scan(journal_seg_t *seg, int fd, int64_t file_size, bool check_crc, journal_scan_t *ret)
{
    journal_reader_t r;
    s_reader_init(&r, fd);
    journal_scan_t sc = {.end = JOURNAL_SEG_HEADER, .damage_off = -1, .why = NULL, .next_good = -1};
    int64_t off = JOURNAL_SEG_HEADER;
    uint64_t expect = seg->first_seq;

    seg->idx_count = 0;
    while (off < file_size) {
        journal_rec_t rec;
        const char *why = NULL;
        journal_check_t c = s_rec_check(&r, off, file_size, expect, check_crc, &rec, &why);
        if (c != JOURNAL_CHECK_OK) {
            sc.damage_off = off;
            sc.why = why;
            sc.misplaced = c == JOURNAL_CHECK_MISPLACED;
            break;
        }
        s_seg_index_add(seg, rec.seq, off);
        seg->last_ts_ns = rec.ts_ns;
        off += rec.total;
        expect++;
    }
    sc.end = off;
    seg->last_seq = expect - 1;
    if (sc.damage_off >= 0 && check_crc) {
        /* Byte by byte: only damaged files get here, and lengths there cannot be trusted. */
        for (int64_t p = sc.damage_off + 1; p + JOURNAL_REC_HEADER <= file_size; p++) {
            const unsigned char *m = NULL;
            if (s_reader_get(&r, p, sizeof(uint32_t), file_size, &m) < 0) {
                break;
            }
            if (s_get_u32(m) != JOURNAL_REC_MAGIC) {
                continue;
            }
            journal_rec_t rec;
            const char *why = NULL;
            if (s_rec_check(&r, p, file_size, 0, true, &rec, &why) == JOURNAL_CHECK_OK) {
                sc.next_good = p;
                break;
            }
        }
    }
    s_reader_finish(&r);
    *ret = sc;
    return 0;
}

/* Check a sealed segment once: structure, index, last seq; it must end where next begins. */
static int
s_seg_ensure_scanned(journal_t *self, size_t i, char *err, size_t err_size)
{
    journal_seg_t *seg = self->segs[i];
    if (seg->scanned) {
        return 0;
    }
    int fd = open(seg->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        s_set_err(err, err_size, "journal: open('%s') failed: %s", seg->path, strerror(-rc));
        return rc;
    }
    journal_scan_t sc;
    (void) s_seg_scan(seg, fd, seg->size, false, &sc);
    close(fd);
    if (sc.damage_off >= 0) {
        s_set_err(err, err_size,
                  "journal: '%s': corrupt record at offset %" PRId64 " (%s) in a closed segment",
                  seg->path, sc.damage_off, sc.why);
        return -EBADMSG;
    }
    if (i + 1 < self->seg_count && seg->last_seq + 1 != self->segs[i + 1]->first_seq) {
        s_set_err(err, err_size,
                  "journal: '%s': records end at seq %" PRIu64
                  " but the next segment starts at %" PRIu64,
                  seg->path, seg->last_seq, self->segs[i + 1]->first_seq);
        return -EBADMSG;
    }
    seg->scanned = true;
    return 0;
}

static void
s_segs_push(journal_t *self, journal_seg_t *seg)
{
    if (self->seg_count == self->seg_cap) {
        self->seg_cap = self->seg_cap ? self->seg_cap * 2 : JOURNAL_SEG_CAP_MIN;
        self->segs = xrealloc(self->segs, self->seg_cap * sizeof *self->segs);
    }
    self->segs[self->seg_count++] = seg;
}

static int
s_cmp_seg(const void *a, const void *b)
{
    const journal_seg_t *x = *(journal_seg_t *const *) a;
    const journal_seg_t *y = *(journal_seg_t *const *) b;
    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Parse "<20 digits>.seg"; 0 for any other name. */
static uint64_t
s_parse_seg_name(const char *name)
{
    size_t len = strlen(name);
    if (len != JOURNAL_SEQ_DIGITS + strlen(JOURNAL_SEG_SUFFIX)
        || strcmp(name + JOURNAL_SEQ_DIGITS, JOURNAL_SEG_SUFFIX) != 0) {
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < JOURNAL_SEQ_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9') {
            return 0;
        }
        uint64_t d = (uint64_t) (name[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    return v;
}

static int
s_list_segments(journal_t *self, char *err, size_t err_size)
{
    DIR *d = opendir(self->dir);
    if (!d) {
        int rc = -errno;
        s_set_err(err, err_size, "journal: opendir('%s') failed: %s", self->dir, strerror(-rc));
        return rc;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        uint64_t first = s_parse_seg_name(de->d_name);
        if (first == 0) {
            continue;
        }
        journal_seg_t *seg = s_seg_new(self->dir, first);
        if (!seg) {
            rc = -ENAMETOOLONG;
            break;
        }
        struct stat st;
        if (stat(seg->path, &st) < 0) {
            rc = -errno;
            s_set_err(err, err_size, "journal: stat('%s') failed: %s", seg->path, strerror(-rc));
            s_seg_free(seg);
            break;
        }
        seg->size = st.st_size;
        seg->last_ts_ns = (int64_t) st.st_mtim.tv_sec * CLOCK_NS_PER_SEC + st.st_mtim.tv_nsec;
        s_segs_push(self, seg);
    }
    closedir(d);
    if (rc == 0 && self->seg_count > 1) {
        qsort(self->segs, self->seg_count, sizeof *self->segs, s_cmp_seg);
    }
    return rc;
}

/* Read and check a closed segment's header. */
static int
s_check_sealed_header(journal_seg_t *seg, char *err, size_t err_size)
{
    unsigned char h[JOURNAL_SEG_HEADER];
    int fd = open(seg->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        s_set_err(err, err_size, "journal: open('%s') failed: %s", seg->path, strerror(-rc));
        return rc;
    }
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    const char *why = NULL;
    if (n != (ssize_t) sizeof h) {
        why = "segment shorter than its header";
    } else {
        why = s_seg_header_check(h, seg->first_seq);
    }
    if (why) {
        s_set_err(err, err_size, "journal: '%s': %s at offset 0", seg->path, why);
        return -EBADMSG;
    }
    return 0;
}

/*
 * Recover the newest segment: a missing or blank header is rewritten (a crash while creating
 * the file); a torn tail is cut off; a corrupt middle refuses the open. Leaves self->fd open.
 */
static int
s_recover_newest(journal_t *self, char *err, size_t err_size)
{
    journal_seg_t *seg = self->segs[self->seg_count - 1];
    int rc = 0;

    self->fd = open(seg->path, O_RDWR | O_CLOEXEC);
    if (self->fd < 0) {
        rc = -errno;
        s_set_err(err, err_size, "journal: open('%s') failed: %s", seg->path, strerror(-rc));
        return rc;
    }
    unsigned char h[JOURNAL_SEG_HEADER] = {0};
    ssize_t n = pread(self->fd, h, sizeof h, 0);
    if (n < 0) {
        rc = -errno;
        s_set_err(err, err_size, "journal: read('%s') failed: %s", seg->path, strerror(-rc));
        return rc;
    }
    /*
     * A header cut short, or still zeros, is a crash while creating the file: no record can
     * follow it, so writing it again loses nothing.
     */
    bool torn_header = seg->size < JOURNAL_SEG_HEADER
                       || (seg->size == JOURNAL_SEG_HEADER && s_is_zero(h, sizeof h));
    if (torn_header) {
        self->stats.truncated_bytes += (uint64_t) seg->size;
        rc = s_seg_write_header(self->fd, seg->first_seq, s_now(self));
        if (rc < 0) {
            s_set_err(err, err_size, "journal: write('%s') failed: %s", seg->path, strerror(-rc));
            return rc;
        }
        seg->size = JOURNAL_SEG_HEADER;
        seg->last_seq = seg->first_seq - 1;
        seg->scanned = true;
        return 0;
    }
    const char *why = s_seg_header_check(h, seg->first_seq);
    if (why) {
        s_set_err(err, err_size, "journal: '%s': %s at offset 0", seg->path, why);
        return -EBADMSG;
    }
    journal_scan_t sc;
    (void) s_seg_scan(seg, self->fd, seg->size, true, &sc);
    if (sc.damage_off >= 0 && (sc.misplaced || sc.next_good >= 0)) {
        if (sc.misplaced) {
            s_set_err(err, err_size,
                      "journal: '%s': record at offset %" PRId64
                      " has seq out of order (expected %" PRIu64 "); refusing to open",
                      seg->path, sc.damage_off, seg->last_seq + 1);
        } else {
            s_set_err(err, err_size,
                      "journal: '%s': corrupt record at offset %" PRId64
                      " (%s) with valid records after it at offset %" PRId64
                      "; refusing to truncate (move the file away to accept the loss)",
                      seg->path, sc.damage_off, sc.why, sc.next_good);
        }
        return -EBADMSG;
    }
    if (sc.damage_off >= 0) {
        if (ftruncate(self->fd, sc.end) < 0) {
            rc = -errno;
            s_set_err(err, err_size, "journal: ftruncate('%s') failed: %s", seg->path,
                      strerror(-rc));
            return rc;
        }
        if (self->opts.fsync != JOURNAL_FSYNC_NONE && fdatasync(self->fd) < 0) {
            rc = -errno;
            s_set_err(err, err_size, "journal: fdatasync('%s') failed: %s", seg->path,
                      strerror(-rc));
            return rc;
        }
        self->stats.truncated_bytes += (uint64_t) (seg->size - sc.end);
        seg->size = sc.end;
    }
    seg->scanned = true;
    return 0;
}

static int
s_create_segment(journal_t *self, uint64_t first_seq)
{
    journal_seg_t *seg = s_seg_new(self->dir, first_seq);
    if (!seg) {
        return -ENAMETOOLONG;
    }
    int fd = open(seg->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, JOURNAL_FILE_MODE);
    if (fd < 0) {
        int rc = -errno;
        s_seg_free(seg);
        return rc;
    }
    int64_t now = s_now(self);
    int rc = s_seg_write_header(fd, first_seq, now);
    if (rc == 0 && self->opts.fsync != JOURNAL_FSYNC_NONE) {
        if (fdatasync(fd) < 0 || fsync(self->dir_fd) < 0) {
            rc = -errno;
        }
    }
    if (rc < 0) {
        close(fd);
        (void) unlink(seg->path);
        s_seg_free(seg);
        return rc;
    }
    seg->size = JOURNAL_SEG_HEADER;
    seg->last_ts_ns = now;
    seg->scanned = true;
    s_segs_push(self, seg);
    self->total_bytes += seg->size;
    self->fd = fd;
    return 0;
}

/* ---- retention ---- */

static int
s_retain(journal_t *self)
{
    int64_t total = self->total_bytes;
    int64_t now = s_now(self);
    size_t drop = 0;
    int rc = 0;
    /* Oldest first and never the newest, so what stays is one unbroken range of seqs. */
    while (drop + 1 < self->seg_count) {
        journal_seg_t *seg = self->segs[drop];
        bool too_big = self->opts.retain_size > 0 && total > self->opts.retain_size;
        bool too_old =
            self->opts.retain_age_ns > 0 && now - seg->last_ts_ns > self->opts.retain_age_ns;
        if (seg->readers > 0 || (!too_big && !too_old)) {
            break;
        }
        if (unlink(seg->path) < 0 && errno != ENOENT) {
            rc = -errno;
            break;
        }
        total -= seg->size;
        self->total_bytes -= seg->size;
        s_seg_free(seg);
        drop++;
    }
    if (drop > 0) {
        memmove(self->segs, self->segs + drop, (self->seg_count - drop) * sizeof *self->segs);
        self->seg_count -= drop;
        self->stats.deleted += drop;
        if (self->opts.fsync != JOURNAL_FSYNC_NONE) {
            (void) fsync(self->dir_fd);
        }
    }
    return rc < 0 ? rc : (int) drop;
}

int
journal_retain(journal_t *self)
{
    return s_retain(self);
}

/* ---- open / close ---- */

static bool
s_opts_are_valid(const journal_opts_t *o)
{
    return (unsigned) o->fsync < JOURNAL_FSYNC_COUNT
           && (o->fsync != JOURNAL_FSYNC_INTERVAL || o->fsync_interval_ns > 0)
           && o->segment_size > JOURNAL_SEG_HEADER && o->retain_size >= 0 && o->retain_age_ns >= 0;
}

int
journal_open(const char *dir, const journal_opts_t *opts, journal_t **ret, char *err,
             size_t err_size)
{
    s_set_err(err, err_size, "%s", "");
    if (!dir || !*dir || !opts || !s_opts_are_valid(opts)) {
        s_set_err(err, err_size, "journal: invalid options");
        return -EINVAL;
    }
    journal_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->opts = *opts;
    self->lock_fd = self->dir_fd = self->fd = -1;
    int rc = fsutil_mkdirs(dir, JOURNAL_DIR_MODE);
    if (rc < 0) {
        s_set_err(err, err_size, "journal: mkdir('%s') failed: %s", dir, strerror(-rc));
        goto error;
    }
    char lock_path[JOURNAL_PATH_MAX];
    if (snprintf(lock_path, sizeof lock_path, "%s/%s", dir, JOURNAL_LOCK_NAME)
        >= (int) sizeof lock_path) {
        rc = -ENAMETOOLONG;
        s_set_err(err, err_size, "journal: path '%s' too long", dir);
        goto error;
    }
    self->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, JOURNAL_FILE_MODE);
    if (self->lock_fd < 0) {
        rc = -errno;
        s_set_err(err, err_size, "journal: open('%s') failed: %s", lock_path, strerror(-rc));
        goto error;
    }
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        s_set_err(err, err_size, "journal: '%s' is in use by another process", dir);
        goto error;
    }
    self->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->dir_fd < 0) {
        rc = -errno;
        s_set_err(err, err_size, "journal: open('%s') failed: %s", dir, strerror(-rc));
        goto error;
    }
    rc = s_list_segments(self, err, err_size);
    if (rc < 0) {
        goto error;
    }
    if (self->seg_count == 0) {
        rc = s_create_segment(self, 1);
        if (rc < 0) {
            s_set_err(err, err_size, "journal: creating the first segment in '%s' failed: %s", dir,
                      strerror(-rc));
            goto error;
        }
    } else {
        for (size_t i = 0; i + 1 < self->seg_count; i++) {
            rc = s_check_sealed_header(self->segs[i], err, err_size);
            if (rc < 0) {
                goto error;
            }
        }
        rc = s_recover_newest(self, err, err_size);
        if (rc < 0) {
            goto error;
        }
        if (self->seg_count > 1) {
            /* The segment before the newest is the one a crash during rotation could cut. */
            rc = s_seg_ensure_scanned(self, self->seg_count - 2, err, err_size);
            if (rc < 0) {
                goto error;
            }
        }
    }
    self->last_seq = self->segs[self->seg_count - 1]->last_seq;
    self->total_bytes = 0;
    for (size_t i = 0; i < self->seg_count; i++) {
        self->total_bytes += self->segs[i]->size;
    }
    self->last_sync_ns = s_now(self);
    self->stats.segments = self->seg_count;
    /* Same here: the journal is sound; journal_tick reports a deletion that keeps failing. */
    (void) s_retain(self);
    *ret = self;
    return 0;
error:
    journal_close(&self);
    return rc;
}

void
journal_close(journal_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    journal_t *self = *self_p;
    if (self->fd >= 0) {
        if (self->dirty && self->opts.fsync != JOURNAL_FSYNC_NONE) {
            (void) fdatasync(self->fd);
        }
        close(self->fd);
    }
    for (size_t i = 0; i < self->seg_count; i++) {
        s_seg_free(self->segs[i]);
    }
    free(self->segs);
    if (self->dir_fd >= 0) {
        close(self->dir_fd);
    }
    if (self->lock_fd >= 0) {
        close(self->lock_fd);
    }
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* ---- append ---- */

static int
s_sync(journal_t *self)
{
    if (fdatasync(self->fd) < 0) {
        return -errno;
    }
    self->dirty = false;
    self->last_sync_ns = s_now(self);
    self->stats.syncs++;
    return 0;
}

/* Close the newest segment and start the next one at first_seq. */
static int
s_rotate(journal_t *self, uint64_t first_seq)
{
    if (self->dirty && self->opts.fsync != JOURNAL_FSYNC_NONE) {
        int rc = s_sync(self);
        if (rc < 0) {
            return rc;
        }
    }
    int old_fd = self->fd;
    int rc = s_create_segment(self, first_seq);
    if (rc < 0) {
        return rc;
    }
    close(old_fd);
    self->dirty = false;
    self->stats.rotations++;
    /* A file that cannot be deleted now is retried at the next tick, which reports it. */
    (void) s_retain(self);
    return 0;
}

static int
s_write_all(int fd, struct iovec *iov, int iovcnt, int64_t off)
{
    while (iovcnt > 0) {
        ssize_t n = pwritev(fd, iov, iovcnt, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        off += n;
        while (iovcnt > 0 && (size_t) n >= iov->iov_len) {
            n -= (ssize_t) iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *) iov->iov_base + n;
            iov->iov_len -= (size_t) n;
        }
    }
    return 0;
}

int
journal_append(journal_t *self, uint64_t seq, const char *topic, const void *payload, size_t size)
{
    size_t topic_len = topic ? strlen(topic) : 0;
    if (seq != self->last_seq + 1 || topic_len > JOURNAL_TOPIC_MAX || size > JOURNAL_PAYLOAD_MAX
        || (size > 0 && !payload)) {
        return -EINVAL;
    }
    int64_t total = JOURNAL_REC_HEADER + (int64_t) topic_len + (int64_t) size;
    journal_seg_t *seg = self->segs[self->seg_count - 1];
    if (seg->size > JOURNAL_SEG_HEADER && seg->size + total > self->opts.segment_size) {
        int rc = s_rotate(self, seq);
        if (rc < 0) {
            return rc;
        }
        seg = self->segs[self->seg_count - 1];
    }
    int64_t now = s_now(self);
    unsigned char h[JOURNAL_REC_HEADER];
    s_rec_header_encode(h, seq, now, (uint32_t) size, (uint16_t) topic_len);
    uint32_t crc = crc32c_compute(h + REC_OFF_SEQ, JOURNAL_REC_HEADER - REC_OFF_SEQ);
    crc = crc32c_extend(crc, topic, topic_len);
    crc = crc32c_extend(crc, payload, size);
    s_put_u32(h + REC_OFF_CRC, crc);

    struct iovec iov[] = {
        {.iov_base = h, .iov_len = sizeof h},
        {.iov_base = (void *) topic, .iov_len = topic_len},
        {.iov_base = (void *) payload, .iov_len = size},
    };
    int rc = s_write_all(self->fd, iov, (int) (sizeof iov / sizeof iov[0]), seg->size);
    self->dirty = true;
    if (rc == 0) {
        bool due = self->opts.fsync == JOURNAL_FSYNC_EVERY
                   || (self->opts.fsync == JOURNAL_FSYNC_INTERVAL
                       && (now - self->last_sync_ns >= self->opts.fsync_interval_ns
                           || now < self->last_sync_ns));
        if (due) {
            rc = s_sync(self);
        }
    }
    if (rc < 0) {
        /* Cut back to the last whole record so the file never holds half of this one. */
        (void) ftruncate(self->fd, seg->size);
        return rc;
    }
    s_seg_index_add(seg, seq, seg->size);
    seg->size += total;
    seg->last_seq = seq;
    seg->last_ts_ns = now;
    self->last_seq = seq;
    self->total_bytes += total;
    self->stats.appends++;
    self->stats.append_bytes += (uint64_t) total;
    if (self->opts.retain_size > 0 && self->total_bytes > self->opts.retain_size
        && self->seg_count > 1) {
        /* The record is written: a failure to delete old files is not this append's. */
        (void) s_retain(self);
    }
    return 0;
}

uint64_t
journal_last_seq(const journal_t *self)
{
    return self->last_seq;
}

uint64_t
journal_first_seq(const journal_t *self)
{
    return self->segs[0]->first_seq;
}

const char *
journal_dir(const journal_t *self)
{
    return self->dir;
}

int
journal_sync(journal_t *self)
{
    if (!self->dirty || self->opts.fsync == JOURNAL_FSYNC_NONE) {
        return 0;
    }
    return s_sync(self);
}

int
journal_tick(journal_t *self)
{
    if (self->dirty && self->opts.fsync == JOURNAL_FSYNC_INTERVAL) {
        int64_t now = s_now(self);
        if (now - self->last_sync_ns >= self->opts.fsync_interval_ns || now < self->last_sync_ns) {
            int rc = s_sync(self);
            if (rc < 0) {
                return rc;
            }
        }
    }
    int rc = s_retain(self);
    return rc < 0 ? rc : 0;
}

void
journal_stats(const journal_t *self, journal_stats_t *ret)
{
    *ret = self->stats;
    ret->segments = self->seg_count;
    ret->size_bytes = self->total_bytes;
}

/* ---- iterators ---- */

/* Index of the segment holding seq (the last one whose first seq is <= seq). */
static size_t
s_find_segment(const journal_t *self, uint64_t seq)
{
    size_t lo = 0;
    size_t hi = self->seg_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->segs[mid]->first_seq <= seq) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Enter segment i: pin it, open its file. */
static int
s_iter_enter(journal_iter_t *it, size_t i)
{
    journal_seg_t *seg = it->journal->segs[i];
    int fd = open(seg->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (it->seg) {
        it->seg->readers--;
        close(it->rd.fd);
    }
    s_reader_finish(&it->rd);
    s_reader_init(&it->rd, fd);
    seg->readers++;
    it->seg = seg;
    it->off = JOURNAL_SEG_HEADER;
    return 0;
}

int
journal_iter_new(journal_t *journal, uint64_t from_seq, journal_iter_t **ret, char *err,
                 size_t err_size)
{
    s_set_err(err, err_size, "%s", "");
    if (from_seq < journal_first_seq(journal) || from_seq > journal->last_seq + 1) {
        return -ERANGE;
    }
    size_t i = s_find_segment(journal, from_seq);
    int rc = s_seg_ensure_scanned(journal, i, err, err_size);
    if (rc < 0) {
        return rc;
    }
    journal_iter_t *it = xcalloc(1, sizeof *it);
    it->journal = journal;
    s_reader_init(&it->rd, -1);
    rc = s_iter_enter(it, i);
    if (rc < 0) {
        s_set_err(err, err_size, "journal: open('%s') failed: %s", journal->segs[i]->path,
                  strerror(-rc));
        free(it);
        return rc;
    }
    journal_seg_t *seg = it->seg;
    it->next_seq = seg->first_seq;
    /* Binary search in the sparse index, then walk headers to from_seq. */
    size_t lo = 0;
    size_t hi = seg->idx_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->idx[mid].seq <= from_seq) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (seg->idx_count > 0 && seg->idx[lo].seq <= from_seq) {
        it->off = seg->idx[lo].off;
        it->next_seq = seg->idx[lo].seq;
    }
    while (it->next_seq < from_seq) {
        journal_rec_t rec;
        const char *why = NULL;
        if (s_rec_check(&it->rd, it->off, seg->size, it->next_seq, false, &rec, &why)
            != JOURNAL_CHECK_OK) {
            s_set_err(err, err_size, "journal: '%s': corrupt record at offset %" PRId64 " (%s)",
                      seg->path, it->off, why);
            journal_iter_destroy(&it);
            return -EBADMSG;
        }
        it->off += rec.total;
        it->next_seq++;
    }
    *ret = it;
    return 0;
}

int
journal_iter_next(journal_iter_t *self, journal_record_t *ret)
{
    journal_t *j = self->journal;
    if (self->next_seq > j->last_seq) {
        return 0;
    }
    if (self->off >= self->seg->size) {
        size_t i = s_find_segment(j, self->seg->first_seq) + 1;
        if (i >= j->seg_count || j->segs[i]->first_seq != self->next_seq) {
            snprintf(self->err, sizeof self->err,
                     "journal: '%s': records end at seq %" PRIu64
                     " but the next segment does not start there",
                     self->seg->path, self->next_seq - 1);
            return -EBADMSG;
        }
        int rc = s_iter_enter(self, i);
        if (rc < 0) {
            snprintf(self->err, sizeof self->err, "journal: open('%s') failed: %s",
                     j->segs[i]->path, strerror(-rc));
            return rc;
        }
    }
    journal_rec_t rec;
    const char *why = NULL;
    if (s_rec_check(&self->rd, self->off, self->seg->size, self->next_seq, true, &rec, &why)
        != JOURNAL_CHECK_OK) {
        snprintf(self->err, sizeof self->err,
                 "journal: '%s': corrupt record at offset %" PRId64 " (%s)", self->seg->path,
                 self->off, why);
        return -EBADMSG;
    }
    const unsigned char *all = NULL;
    int rc = s_reader_get(&self->rd, self->off, (size_t) rec.total, self->seg->size, &all);
    if (rc < 0) {
        return rc;
    }
    memcpy(self->topic, all + JOURNAL_REC_HEADER, rec.topic_len);
    self->topic[rec.topic_len] = '\0';
    *ret = (journal_record_t){
        .seq = rec.seq,
        .ts_ns = rec.ts_ns,
        .topic = self->topic,
        .topic_len = rec.topic_len,
        .payload = all + JOURNAL_REC_HEADER + rec.topic_len,
        .size = rec.payload_len,
    };
    self->off += rec.total;
    self->next_seq++;
    return 1;
}

uint64_t
journal_iter_next_seq(const journal_iter_t *self)
{
    return self->next_seq;
}

const char *
journal_iter_error(const journal_iter_t *self)
{
    return self->err;
}

void
journal_iter_destroy(journal_iter_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    journal_iter_t *self = *self_p;
    if (self->seg) {
        self->seg->readers--;
    }
    if (self->rd.fd >= 0) {
        close(self->rd.fd);
    }
    s_reader_finish(&self->rd);
    free(self);
    *self_p = NULL;
}
