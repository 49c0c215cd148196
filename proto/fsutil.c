/* fsutil: mkdir -p and endpoint directories. */
#include "fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define FSUTIL_IPC_PREFIX "ipc://"
#define FSUTIL_DIR_MODE   0755

int
fsutil_mkdirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n < 0 || (size_t) n >= sizeof buf) {
        return -ENAMETOOLONG;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST) {
            return -errno;
        }
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

int
fsutil_prepare_endpoint(const char *endpoint)
{
    size_t prefix = strlen(FSUTIL_IPC_PREFIX);
    if (strncmp(endpoint, FSUTIL_IPC_PREFIX, prefix) != 0) {
        return 0;
    }
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s", endpoint + prefix);
    if (n < 0 || (size_t) n >= sizeof dir) {
        return -ENAMETOOLONG;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        return 0; /* a socket in the cwd or in / */
    }
    *slash = '\0';
    return fsutil_mkdirs(dir, FSUTIL_DIR_MODE);
}
