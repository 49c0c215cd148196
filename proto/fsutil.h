/* fsutil: small file-system helpers shared by every process. */
#ifndef PROTO_FSUTIL_H
#define PROTO_FSUTIL_H

#include <sys/types.h>

/* mkdir -p path with mode for each directory created. 0, or -errno (-ENAMETOOLONG). */
int fsutil_mkdirs(const char *path, mode_t mode);

/*
 * For an ipc:// endpoint, create the directory holding its socket file (mode 0755), so a
 * process started by hand works as well as one started by the supervisor. Other transports:
 * nothing to do. 0 or -errno.
 */
int fsutil_prepare_endpoint(const char *endpoint);

#endif
