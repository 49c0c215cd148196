/* snapshot: the aggregator's state file — atomic replacement, checks, head records. */
#include "snapshot.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crc32c.h"
#include "fsutil.h"
#include "xalloc.h"

#define SNAPSHOT_MAGIC       "TPSNAP1\n"
#define SNAPSHOT_MAGIC_LEN   8
#define SNAPSHOT_HEADER      32 /* bytes: magic, version, reserved, size, crc, header crc */
#define SNAPSHOT_OFF_VER     8
#define SNAPSHOT_OFF_SIZE    16
#define SNAPSHOT_OFF_CRC     24
#define SNAPSHOT_OFF_HCRC    28
#define SNAPSHOT_PAYLOAD_MAX (16ull * 1024 * 1024 * 1024) /* refuse larger files */
#define SNAPSHOT_DIR_MODE    0755
#define SNAPSHOT_FILE_MODE   0644
#define SNAPSHOT_PATH_MAX    4096
#define SNAPSHOT_TAG         "snapshot"
#define SNAPSHOT_SOURCE_TAG  "source"
#define SNAPSHOT_SOURCES_MAX 4096 /* sources in one snapshot at most */
#define SNAPSHOT_BYTE_BITS   8

/* ---- file ---- */

int
snapshot_path(const char *state_dir, const char *name, char *buf, size_t size)
{
    assert(state_dir != NULL && buf != NULL);
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return -EINVAL;
    }
    int n = snprintf(buf, size, "%s/aggregator/%s.snap", state_dir, name);
    if (n < 0 || (size_t) n >= size) {
        return -ENOSPC;
    }
    return n;
}

static void
s_put_le(uint8_t *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++) {
        p[i] = (uint8_t) (v >> (SNAPSHOT_BYTE_BITS * i));
    }
}

static uint64_t
s_get_le(const uint8_t *p, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) {
        v |= (uint64_t) p[i] << (SNAPSHOT_BYTE_BITS * i);
    }
    return v;
}

static void
s_header(uint8_t *h, size_t size, uint32_t crc)
{
    memset(h, 0, SNAPSHOT_HEADER);
    memcpy(h, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
    s_put_le(h + SNAPSHOT_OFF_VER, SNAPSHOT_VERSION, sizeof(uint32_t));
    s_put_le(h + SNAPSHOT_OFF_SIZE, size, sizeof(uint64_t));
    s_put_le(h + SNAPSHOT_OFF_CRC, crc, sizeof(uint32_t));
    s_put_le(h + SNAPSHOT_OFF_HCRC, crc32c_compute(h, SNAPSHOT_OFF_HCRC), sizeof(uint32_t));
}

/* Write every byte of iov (count entries) to fd. 0 or -errno. */
static int
s_write_all(int fd, struct iovec *iov, int count)
{
    while (count > 0) {
        ssize_t n = writev(fd, iov, count);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        while (count > 0 && (size_t) n >= iov->iov_len) {
            n -= (ssize_t) iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *) iov->iov_base + n;
            iov->iov_len -= (size_t) n;
        }
    }
    return 0;
}

/* fsync the directory holding path, so a rename in it survives a power loss. */
static int
s_sync_dir(const char *path)
{
    char dir[SNAPSHOT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int
snapshot_write(const char *path, const void *payload, size_t size)
{
    char tmp[SNAPSHOT_PATH_MAX];
    char dir[SNAPSHOT_PATH_MAX];
    uint8_t header[SNAPSHOT_HEADER];

    assert(path != NULL && (payload != NULL || size == 0));
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long) getpid());
    if (n < 0 || (size_t) n >= sizeof tmp) {
        return -ENAMETOOLONG;
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int rc = fsutil_mkdirs(dir, SNAPSHOT_DIR_MODE);
        if (rc < 0) {
            return rc;
        }
    }
    s_header(header, size, crc32c_compute(payload, size));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, SNAPSHOT_FILE_MODE);
    if (fd < 0) {
        return -errno;
    }
    struct iovec iov[2] = {{.iov_base = header, .iov_len = sizeof header},
                           {.iov_base = (void *) payload, .iov_len = size}};
    int rc = s_write_all(fd, iov, 2);
    if (rc == 0 && fdatasync(fd) < 0) {
        rc = -errno;
    }
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        (void) unlink(tmp);
        return rc;
    }
    return s_sync_dir(path);
}

static int
s_refuse(char *why, size_t why_size, int rc, const char *what, const char *detail)
{
    snprintf(why, why_size, "%s%s", what, detail);
    return rc;
}

int
snapshot_read(const char *path, void **ret_data, size_t *ret_size, char *why, size_t why_size)
{
    uint8_t header[SNAPSHOT_HEADER];
    struct stat st;

    assert(path != NULL && ret_data != NULL && ret_size != NULL && why != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        return s_refuse(why, why_size, rc, "open() failed: ", strerror(-rc));
    }
    if (fstat(fd, &st) < 0) {
        int rc = -errno;
        close(fd);
        return s_refuse(why, why_size, rc, "fstat() failed: ", strerror(-rc));
    }
    ssize_t got = read(fd, header, sizeof header);
    if (got != (ssize_t) sizeof header || memcmp(header, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) != 0
        || s_get_le(header + SNAPSHOT_OFF_HCRC, sizeof(uint32_t))
               != crc32c_compute(header, SNAPSHOT_OFF_HCRC)) {
        close(fd);
        return s_refuse(why, why_size, -EBADMSG, "not a tickpipe snapshot (bad header)", "");
    }
    uint64_t version = s_get_le(header + SNAPSHOT_OFF_VER, sizeof(uint32_t));
    uint64_t size = s_get_le(header + SNAPSHOT_OFF_SIZE, sizeof(uint64_t));
    uint32_t crc = (uint32_t) s_get_le(header + SNAPSHOT_OFF_CRC, sizeof(uint32_t));
    if (version != SNAPSHOT_VERSION) {
        close(fd);
        snprintf(why, why_size, "version %llu, this build reads version %d",
                 (unsigned long long) version, SNAPSHOT_VERSION);
        return -EBADMSG;
    }
    if (size > SNAPSHOT_PAYLOAD_MAX || (uint64_t) st.st_size != SNAPSHOT_HEADER + size) {
        close(fd);
        snprintf(why, why_size, "the header says %llu payload bytes, the file holds %lld",
                 (unsigned long long) size, (long long) st.st_size - SNAPSHOT_HEADER);
        return -EBADMSG;
    }
    char *data = xmalloc(size ? size : 1);
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int rc = n < 0 ? -errno : -EBADMSG;
            free(data);
            close(fd);
            return s_refuse(why, why_size, rc,
                            "read() failed: ", n < 0 ? strerror(-rc) : "the file shrank");
        }
        done += (size_t) n;
    }
    close(fd);
    if (crc32c_compute(data, size) != crc) {
        free(data);
        return s_refuse(why, why_size, -EBADMSG, "the payload fails its CRC-32C", "");
    }
    *ret_data = data;
    *ret_size = size;
    return 0;
}

/* ---- head ---- */

void
snapshot_save_head(const snapshot_head_t *head, snap_w_t *w)
{
    assert(head != NULL && w != NULL);
    snap_w_begin(w, SNAPSHOT_TAG);
    snap_w_str(w, head->name);
    snap_w_int(w, head->saved_ns);
    snap_w_uint(w, head->push_seq);
    snap_w_uint(w, head->instr_count);
    snap_w_uint(w, head->source_count);
    snap_w_end(w);
    for (size_t i = 0; i < head->source_count; i++) {
        snap_w_begin(w, SNAPSHOT_SOURCE_TAG);
        snap_w_str(w, head->sources[i].name);
        snap_w_uint(w, head->sources[i].checkpoint);
        snap_w_end(w);
    }
}

int
snapshot_load_head(snap_r_t *r, snapshot_head_t *ret)
{
    assert(r != NULL && ret != NULL);
    *ret = (snapshot_head_t){0};
    if (!snap_r_next(r, SNAPSHOT_TAG)) {
        return -EBADMSG;
    }
    snap_r_str(r, ret->name, sizeof ret->name);
    ret->saved_ns = snap_r_int(r, INT64_MIN, INT64_MAX);
    ret->push_seq = snap_r_uint(r, UINT64_MAX);
    ret->instr_count = snap_r_uint(r, UINT64_MAX);
    size_t count = (size_t) snap_r_uint(r, SNAPSHOT_SOURCES_MAX);
    if (snap_r_error(r, NULL) != 0) {
        return -EBADMSG;
    }
    ret->sources = xcalloc(count ? count : 1, sizeof *ret->sources);
    for (size_t i = 0; i < count && snap_r_next(r, SNAPSHOT_SOURCE_TAG); i++) {
        snap_r_str(r, ret->sources[i].name, sizeof ret->sources[i].name);
        ret->sources[i].checkpoint = snap_r_uint(r, UINT64_MAX);
        ret->source_count = i + 1;
    }
    if (snap_r_error(r, NULL) != 0) {
        snapshot_head_finish(ret);
        return -EBADMSG;
    }
    return 0;
}

void
snapshot_head_finish(snapshot_head_t *head)
{
    if (!head) {
        return;
    }
    free(head->sources);
    head->sources = NULL;
    head->source_count = 0;
}
