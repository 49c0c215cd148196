/*
 * snap_check: the checks every snapshot round-trip test makes (test_bar, test_dedupe,
 * test_series, test_profile, test_session, test_instr): read back what a snap_w_t holds, check
 * how a load ended, and compare two saves byte for byte. What a module's state must equal stays
 * in its own test. Header-only (static inline) so that each test stays one file and a test that
 * needs only some of these gets no warning for the others.
 */
#ifndef TESTS_SNAP_CHECK_H
#define TESTS_SNAP_CHECK_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "snap.h"

/* A reader over the stream in w, which must outlive it. Caller owns the result. */
static inline snap_r_t *
snap_check_reader(const snap_w_t *w)
{
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    return snap_r_new(data, size);
}

/*
 * How a load from r ended, what (may be NULL) naming the case in messages. Loaded: no error, and
 * every record was read. Refused: -EBADMSG, with a reason.
 */
static inline void
snap_check_load_result(snap_r_t *r, bool loaded, const char *what)
{
    const char *why = NULL;
    int rc = snap_r_error(r, &why);
    what = what ? what : "load";
    if (loaded) {
        ck_assert_msg(rc == 0, "%s: loaded with error %d: %s", what, rc, why ? why : "");
        ck_assert_msg(snap_r_at_end(r), "%s: loaded without reading every record", what);
    } else {
        ck_assert_msg(rc == -EBADMSG, "%s: refused with error %d, not -EBADMSG", what, rc);
        ck_assert_msg(why && strlen(why) > 0, "%s: refused without a reason", what);
    }
}

/* a and b hold the same bytes; what (may be NULL) names the case in messages. */
static inline void
snap_check_same_bytes(const snap_w_t *a, const snap_w_t *b, const char *what)
{
    size_t na = 0;
    size_t nb = 0;
    const void *da = snap_w_data(a, &na);
    const void *db = snap_w_data(b, &nb);
    what = what ? what : "save";
    ck_assert_msg(na == nb, "%s: the snapshots are %zu and %zu bytes", what, na, nb);
    ck_assert_msg(memcmp(da, db, na) == 0, "%s: the snapshots differ", what);
}

#endif
