/* test_fakex_synth: the synthetic market: seeded, realistic steps, each exchange's id rules. */
#include "fx_synth.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_proto.h"

#define S_ORDERS 2000

static char s_err[256];

static fx_venue_t *
s_market(fx_exchange_t ex, msg_market_t market, uint64_t seed, const char *bases, size_t n)
{
    fx_venue_t *v = fx_venue_new(ex, market, 0);
    fx_synth_opts_t o = {.seed = seed, .n_symbols = n, .bases = bases, .rate = 100};
    ck_assert_int_eq(fx_synth_attach(v, &o, S_ORDERS, s_err, sizeof s_err), 0);
    fx_venue_set_speed(v, 0);
    fx_venue_publish_to(v, UINT64_MAX);
    ck_assert(fx_venue_is_done(v));
    return v;
}

/* Whether two venues hold the same trades (everything but the times). */
static bool
s_same(fx_venue_t *a, fx_venue_t *b)
{
    if (fx_venue_symbol_count(a) != fx_venue_symbol_count(b)) {
        return false;
    }
    for (size_t s = 0; s < fx_venue_symbol_count(a); s++) {
        const fx_symbol_t *x = fx_venue_symbol_get(a, s), *y = fx_venue_symbol_get(b, s);
        if (x->tape.end != y->tape.end) {
            return false;
        }
        for (uint64_t p = 0; p < x->tape.end; p++) {
            fx_trade_t t = *fx_symbol_trade(x, p), u = *fx_symbol_trade(y, p);
            t.ts_ns = u.ts_ns = 0;
            if (memcmp(&t, &u, sizeof t) != 0) {
                return false;
            }
        }
    }
    return true;
}

START_TEST(test_fakex_synth_same_seed_same_market)
{
    fx_venue_t *a = s_market(FX_EX_BYBIT, MSG_MARKET_LINEAR, 42, NULL, 4);
    fx_venue_t *b = s_market(FX_EX_BYBIT, MSG_MARKET_LINEAR, 42, NULL, 4);
    fx_venue_t *c = s_market(FX_EX_BYBIT, MSG_MARKET_LINEAR, 43, NULL, 4);
    ck_assert(s_same(a, b));
    ck_assert(!s_same(a, c));
    fx_venue_destroy(&a);
    fx_venue_destroy(&b);
    fx_venue_destroy(&c);
}
END_TEST

START_TEST(test_fakex_synth_binance_ids_and_steps)
{
    fx_venue_t *v = s_market(FX_EX_BINANCE, MSG_MARKET_SPOT, 1, "BTC,ETH,FOO", 0);
    ck_assert_uint_eq(fx_venue_symbol_count(v), 3);
    ck_assert_str_eq(fx_venue_symbol_get(v, 2)->name, "FOOUSDT");
    fx_venue_stats_t st;
    fx_venue_stats(v, &st);
    ck_assert_uint_eq(st.trade_events, st.trades); /* one aggTrade per frame */
    ck_assert_uint_ge(st.trades, S_ORDERS);
    for (size_t s = 0; s < 3; s++) {
        const fx_symbol_t *sym = fx_venue_symbol_get(v, s);
        ck_assert_uint_gt(sym->tape.end, 0);
        ck_assert_str_eq(fx_venue_key_name(v, sym->key) + strlen(sym->name), "@aggtrade");
        const fx_trade_t *prev = NULL;
        for (uint64_t p = 0; p < sym->tape.end; p++) {
            const fx_trade_t *t = fx_symbol_trade(sym, p);
            ck_assert_int_eq(t->price_exp, -8); /* Binance spot prints 8 decimals */
            ck_assert_int_gt(t->price_mant, 0);
            ck_assert_int_gt(t->qty_mant, 0);
            /* BTC and ETH move on a 0.01 tick, FOO (not in the table) on 0.0001. */
            ck_assert_int_eq(t->price_mant % (s < 2 ? 1000000 : 10000), 0);
            ck_assert_int_eq(t->ts_ns % CLOCK_NS_PER_MS, 0);
            ck_assert_uint_ge(t->aux2, t->aux1);
            if (prev) {
                ck_assert_uint_eq(t->id, prev->id + 1);
                ck_assert_uint_eq(t->aux1, prev->aux2 + 1);
            }
            prev = t;
        }
    }
    fx_venue_destroy(&v);
}
END_TEST

START_TEST(test_fakex_synth_exchange_id_rules)
{
    fx_venue_t *bybit = s_market(FX_EX_BYBIT, MSG_MARKET_LINEAR, 3, NULL, 2);
    const fx_symbol_t *s = fx_venue_symbol_get(bybit, 0);
    ck_assert_str_eq(s->name, "BTCUSDT");
    for (uint64_t p = 0; p < s->tape.end; p++) {
        const fx_trade_t *t = fx_symbol_trade(s, p);
        ck_assert_int_eq(t->id_kind, FX_ID_UUID);
        ck_assert_uint_eq((t->id >> 12) & 0xf, 5); /* version 5 like Bybit's */
        ck_assert_int_ne(t->tick, FX_TICK_NONE);
        if (p) {
            ck_assert_uint_gt(t->aux1, fx_symbol_trade(s, p - 1)->aux1); /* seq */
        }
    }
    fx_venue_stats_t st;
    fx_venue_stats(bybit, &st);
    ck_assert_uint_eq(st.trade_events, S_ORDERS); /* one frame per taker order */
    fx_venue_t *okx = s_market(FX_EX_OKX, MSG_MARKET_LINEAR, 3, NULL, 1);
    ck_assert_str_eq(fx_venue_symbol_get(okx, 0)->name, "BTC-USDT-SWAP");
    fx_venue_t *cb = s_market(FX_EX_COINBASE, MSG_MARKET_SPOT, 3, NULL, 1);
    s = fx_venue_symbol_get(cb, 0);
    ck_assert_str_eq(s->name, "BTC-USD");
    for (uint64_t p = 1; p < s->tape.end; p++) {
        ck_assert_uint_eq(fx_symbol_trade(s, p)->id, fx_symbol_trade(s, p - 1)->id + 1);
        ck_assert_int_eq(fx_symbol_trade(s, p)->ts_ns % CLOCK_NS_PER_US, 0);
    }
    fx_venue_destroy(&bybit);
    fx_venue_destroy(&okx);
    fx_venue_destroy(&cb);
}
END_TEST

START_TEST(test_fakex_synth_rejects_bad_options)
{
    fx_venue_t *v = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_SPOT, 0);
    fx_synth_opts_t o = {.seed = 1, .n_symbols = 0, .rate = 1};
    ck_assert_int_eq(fx_synth_attach(v, &o, 0, s_err, sizeof s_err), -EINVAL);
    o.n_symbols = 2;
    o.rate = 0;
    ck_assert_int_eq(fx_synth_attach(v, &o, 0, s_err, sizeof s_err), -EINVAL);
    fx_venue_destroy(&v);
    v = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_SPOT, 0);
    o = (fx_synth_opts_t){.seed = 1, .bases = "BTC,,ETH", .rate = 1};
    ck_assert_int_eq(fx_synth_attach(v, &o, 0, s_err, sizeof s_err), -EINVAL);
    fx_venue_destroy(&v);
    v = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_SPOT, 0);
    o = (fx_synth_opts_t){.seed = 1, .bases = "BTC,btc", .rate = 1};
    ck_assert_int_eq(fx_synth_attach(v, &o, 0, s_err, sizeof s_err), -EINVAL);
    fx_venue_destroy(&v);
}
END_TEST

/* A bounded history forgets the oldest trades; the newest stay consistent. */
START_TEST(test_fakex_synth_history_is_bounded)
{
    fx_venue_t *v = fx_venue_new(FX_EX_OKX, MSG_MARKET_SPOT, 100);
    fx_synth_opts_t o = {.seed = 9, .n_symbols = 1, .rate = 10};
    ck_assert_int_eq(fx_synth_attach(v, &o, 1000, s_err, sizeof s_err), 0);
    fx_venue_set_speed(v, 0);
    fx_venue_publish_to(v, UINT64_MAX);
    const fx_symbol_t *s = fx_venue_symbol_get(v, 0);
    ck_assert_uint_eq(s->tape.end - s->tape.base, 100);
    ck_assert_uint_eq(s->visible, s->tape.end);
    ck_assert_ptr_null(fx_symbol_trade(s, s->tape.base - 1));
    ck_assert_uint_eq(fx_venue_event_end(v) - fx_venue_event_base(v), 100);
    fx_venue_destroy(&v);
}
END_TEST

static Suite *
fakex_synth_suite(void)
{
    Suite *s = suite_create("fakex_synth");
    TCase *tc = tcase_create("synth");
    tcase_add_test(tc, test_fakex_synth_same_seed_same_market);
    tcase_add_test(tc, test_fakex_synth_binance_ids_and_steps);
    tcase_add_test(tc, test_fakex_synth_exchange_id_rules);
    tcase_add_test(tc, test_fakex_synth_rejects_bad_options);
    tcase_add_test(tc, test_fakex_synth_history_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_synth_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
