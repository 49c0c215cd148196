/* test_outq: messages wait in order while the PUSH socket cannot take them, then all arrive. */
#include "outq.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define HWM 4

START_TEST(test_outq_keeps_order_until_peer_reads)
{
    /* A PUSH with a tiny HWM and no peer yet: every send would block. */
    zsock_t *push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(push, HWM, HWM);
    ck_assert_int_eq(zsock_bind(push, "inproc://outq-test"), 0);
    outq_t *q = outq_new(10);
    char payload[32];
    for (int i = 0; i < 25; i++) {
        snprintf(payload, sizeof payload, "m%02d", i);
        outq_push(q, "bar.1m.x.spot.Y", payload, strlen(payload));
    }
    ck_assert_uint_eq(outq_len(q), 25);
    ck_assert(outq_is_full(q));
    ck_assert_uint_gt(outq_memory(q), 25 * 3);
    ck_assert_int_eq(outq_send(q, push), 0);
    ck_assert_uint_eq(outq_len(q), 25);

    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, HWM, HWM);
    ck_assert_int_eq(zsock_connect(pull, "inproc://outq-test"), 0);
    int got = 0;
    for (int round = 0; round < 1000 && got < 25; round++) {
        int rc = outq_send(q, push);
        ck_assert_int_ge(rc, 0);
        zmsg_t *m = NULL;
        while ((m = zmsg_recv_nowait(pull)) != NULL) {
            ck_assert_uint_eq(zmsg_size(m), 2);
            char *topic = zmsg_popstr(m);
            char *body = zmsg_popstr(m);
            snprintf(payload, sizeof payload, "m%02d", got);
            ck_assert_str_eq(topic, "bar.1m.x.spot.Y");
            ck_assert_str_eq(body, payload);
            free(topic);
            free(body);
            zmsg_destroy(&m);
            got++;
        }
        zclock_sleep(1);
    }
    ck_assert_int_eq(got, 25);
    ck_assert_uint_eq(outq_len(q), 0);
    ck_assert(!outq_is_full(q));
    outq_destroy(&q);
    ck_assert_ptr_null(q);
    zsock_destroy(&pull);
    zsock_destroy(&push);
}
END_TEST

/* Queued messages are freed with the queue. */
START_TEST(test_outq_destroy_with_items)
{
    outq_t *q = outq_new(1);
    for (int i = 0; i < 200; i++) {
        outq_push(q, "t", "x", 1);
    }
    ck_assert_uint_eq(outq_len(q), 200);
    outq_destroy(&q);
    outq_destroy(&q);
}
END_TEST

static Suite *
outq_suite(void)
{
    Suite *s = suite_create("outq");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_outq_keeps_order_until_peer_reads);
    tcase_add_test(tc, test_outq_destroy_with_items);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(outq_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
