/*
 * test_plan: instruments after sharding (stable, disjoint, complete), lookups, the split over
 * connections within the exchange's streams-per-connection and URL limits, session anchors.
 */
#include "plan.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static config_t *s_cfg;
static plan_t *s_plan;

static void
teardown(void)
{
    plan_destroy(&s_plan);
    config_destroy(&s_cfg);
}

/* Load a config with one collector entry "c" made of the given YAML lines. */
static const config_collector_t *
s_load(const char *entry)
{
    char *yaml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&yaml, &len);
    fprintf(f, "collectors:\n  c:\n%s", entry);
    fclose(f);
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_destroy(&s_cfg);
    s_cfg = config_load_buffer("t.yaml", yaml, len, NULL, &errs);
    if (!s_cfg) {
        cfg_errors_print(&errs, stderr);
    }
    cfg_errors_finish(&errs);
    free(yaml);
    ck_assert_ptr_nonnull(s_cfg);
    const config_collector_t *cc = config_collector(s_cfg, "c");
    ck_assert_ptr_nonnull(cc);
    return cc;
}

static const exchange_ops_t *
s_ops(config_exchange_t id)
{
    const exchange_ops_t *ops = exchange_find(id);
    ck_assert_ptr_nonnull(ops);
    return ops;
}

START_TEST(test_plan_instruments_and_find)
{
    const config_collector_t *cc = s_load("    exchange: binance\n"
                                          "    markets: [spot, linear]\n"
                                          "    symbols: [BTCUSDT, ETHUSDT, ETHUSDT, SOLUSDT]\n");
    char err[128];
    ck_assert_int_eq(plan_new(cc, s_ops(CONFIG_EXCHANGE_BINANCE), &s_plan, err, sizeof err), 0);
    ck_assert_uint_eq(plan_instrument_count(s_plan), 6);
    for (size_t i = 0; i < 6; i++) {
        const msg_instrument_t *in = plan_instrument(s_plan, i);
        ck_assert_str_eq(in->exchange, "binance");
        ck_assert_int_eq(plan_find(s_plan, in->market, in->symbol), (int) i);
    }
    int spot = plan_find(s_plan, MSG_MARKET_SPOT, "ETHUSDT");
    int linear = plan_find(s_plan, MSG_MARKET_LINEAR, "ETHUSDT");
    ck_assert_int_ge(spot, 0);
    ck_assert_int_ge(linear, 0);
    ck_assert_int_ne(spot, linear);
    ck_assert_int_eq(plan_find(s_plan, MSG_MARKET_SPOT, "DOGEUSDT"), -ENOENT);
    ck_assert_int_eq(plan_find(s_plan, MSG_MARKET_INVERSE, "BTCUSDT"), -ENOENT);
    ck_assert_uint_eq(plan_conn_count(s_plan), 2);
    const plan_conn_t *c = plan_conn(s_plan, 1);
    ck_assert_int_eq(c->market, MSG_MARKET_LINEAR);
    ck_assert_uint_eq(c->count, 3);
    ck_assert_str_eq(c->symbols[2], "SOLUSDT");
}
END_TEST

/* Shards of one symbol list are disjoint, complete, and follow the documented FNV-1a hash. */
START_TEST(test_plan_shards_partition)
{
    static const char *const syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "XRPUSDT",
                                       "ADAUSDT", "BNBUSDT", "LTCUSDT", "DOTUSDT",  "TRXUSDT"};
    const size_t nsyms = sizeof syms / sizeof syms[0];
    int owner[sizeof syms / sizeof syms[0]];
    memset(owner, -1, sizeof owner);
    for (int shard = 0; shard < 3; shard++) {
        char entry[1024];
        int n = snprintf(entry, sizeof entry,
                         "    exchange: bybit\n    shard: \"%d/3\"\n"
                         "    symbols: [",
                         shard);
        for (size_t i = 0; i < nsyms; i++) {
            n += snprintf(entry + n, sizeof entry - (size_t) n, "%s%s", i ? ", " : "", syms[i]);
        }
        snprintf(entry + n, sizeof entry - (size_t) n, "]\n");
        const config_collector_t *cc = s_load(entry);
        char err[128];
        plan_destroy(&s_plan);
        if (plan_new(cc, s_ops(CONFIG_EXCHANGE_BYBIT), &s_plan, err, sizeof err) < 0) {
            continue; /* a shard may hold nothing */
        }
        for (size_t i = 0; i < nsyms; i++) {
            if (plan_find(s_plan, MSG_MARKET_SPOT, syms[i]) >= 0) {
                ck_assert_int_eq(owner[i], -1);
                owner[i] = shard;
                ck_assert_uint_eq(plan_hash(syms[i]) % 3, (unsigned) shard);
            }
        }
    }
    for (size_t i = 0; i < nsyms; i++) {
        ck_assert_int_ge(owner[i], 0);
    }
    /* FNV-1a 32-bit reference values: the hash must never change between releases. */
    ck_assert_uint_eq(plan_hash(""), 2166136261u);
    ck_assert_uint_eq(plan_hash("a"), 0xe40c292cu);
    ck_assert_uint_eq(plan_hash("foobar"), 0xbf9cf968u);
}
END_TEST

START_TEST(test_plan_shard_keeping_nothing_is_an_error)
{
    /* Find a 2-way shard that "BTCUSDT" is not in. */
    char entry[256];
    snprintf(entry, sizeof entry, "    symbols: [BTCUSDT]\n    shard: \"%u/2\"\n",
             (plan_hash("BTCUSDT") + 1) % 2);
    const config_collector_t *cc = s_load(entry);
    char err[128] = "";
    ck_assert_int_eq(plan_new(cc, s_ops(CONFIG_EXCHANGE_BINANCE), &s_plan, err, sizeof err),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "keeps none"));
}
END_TEST

/* 2000 symbols: several connections, none over 1024 streams or the URL limit, all covered. */
START_TEST(test_plan_streams_per_connection)
{
    static const config_exchange_t ids[] = {CONFIG_EXCHANGE_BINANCE, CONFIG_EXCHANGE_BYBIT};
    const exchange_ops_t *ops = s_ops(ids[_i]);
    size_t cap = 64 * 1024;
    char *entry = malloc(cap);
    int n = snprintf(entry, cap, "    exchange: %s\n    symbols: [", ops->name);
    for (int i = 0; i < 2000; i++) {
        n += snprintf(entry + n, cap - (size_t) n, "%sS%04dUSDT", i ? ", " : "", i);
    }
    snprintf(entry + n, cap - (size_t) n, "]\n");
    const config_collector_t *cc = s_load(entry);
    free(entry);
    char err[128];
    ck_assert_int_eq(plan_new(cc, ops, &s_plan, err, sizeof err), 0);
    ck_assert_uint_eq(plan_instrument_count(s_plan), 2000);
    ck_assert_uint_ge(plan_conn_count(s_plan), 2);
    size_t next = 0;
    char *url = malloc(EXCHANGE_URL_MAX);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = ""};
    for (size_t k = 0; k < plan_conn_count(s_plan); k++) {
        const plan_conn_t *c = plan_conn(s_plan, k);
        ck_assert_uint_eq(c->first, next);
        ck_assert_uint_le(c->count, ops->streams_per_conn);
        ck_assert_int_ge(ops->ws_url(&spec, c->symbols, c->count, url, EXCHANGE_URL_MAX), 0);
        next += c->count;
    }
    free(url);
    ck_assert_uint_eq(next, 2000);
}
END_TEST

START_TEST(test_plan_session_start)
{
    int64_t now, start;
    ck_assert_int_eq(clock_parse_iso("2024-01-03T12:34:56Z", &now), 0);
    ck_assert_int_eq(plan_session_start("00:00", now, &start), 0);
    char iso[CLOCK_ISO_MAX];
    clock_format_iso_ms(start, iso, sizeof iso);
    ck_assert_str_eq(iso, "2024-01-03T00:00:00.000Z");
    ck_assert_int_eq(plan_session_start("13:00", now, &start), 0);
    clock_format_iso_ms(start, iso, sizeof iso);
    ck_assert_str_eq(iso, "2024-01-02T13:00:00.000Z");
    ck_assert_int_eq(plan_session_start("12:34", now, &start), 0);
    clock_format_iso_ms(start, iso, sizeof iso);
    ck_assert_str_eq(iso, "2024-01-03T12:34:00.000Z");
    /* 2024-01-03 is a Wednesday. */
    ck_assert_int_eq(plan_session_start("weekly", now, &start), 0);
    clock_format_iso_ms(start, iso, sizeof iso);
    ck_assert_str_eq(iso, "2024-01-01T00:00:00.000Z");
    static const char *const bad[] = {"8:00", "24:00", "12:60", "ab:cd", "", "12:00x", "daily"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(plan_session_start(bad[i], now, &start), -EINVAL);
    }
}
END_TEST

static Suite *
plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_plan_instruments_and_find);
    tcase_add_test(tc, test_plan_shards_partition);
    tcase_add_test(tc, test_plan_shard_keeping_nothing_is_an_error);
    tcase_add_loop_test(tc, test_plan_streams_per_connection, 0, 2);
    tcase_add_test(tc, test_plan_session_start);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
