/*
 * fx_opts: the command line of tickpipe-fakex (see fx_opts_usage, printed by --help).
 */
#ifndef TESTS_FAKEX_FX_OPTS_H
#define TESTS_FAKEX_FX_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fx_fault.h"
#include "fx_venue.h"

#define FX_OPTS_RUN       (-1) /* fx_opts_parse: go on and run */
#define FX_SOURCES_MAX    32   /* --replay files and --synthetic venues */
#define FX_OPT_FAULTS_MAX 32   /* --fault options */

typedef struct {
    const char *host;                          /* listen address */
    int port;                                  /* listen port, 0 = any free one */
    const char *tls_cert;                      /* PEM certificate, or NULL */
    const char *tls_key;                       /* PEM key, or NULL */
    const char *replay[FX_SOURCES_MAX];        /* "[exchange/market=]file" */
    size_t n_replay;                           /* replay sources */
    fx_exchange_t synth_ex[FX_SOURCES_MAX];    /* synthetic venues: exchange */
    msg_market_t synth_market[FX_SOURCES_MAX]; /* and market */
    size_t n_synth;                            /* synthetic venues */
    size_t n_symbols;                          /* synthetic symbols per venue */
    const char *symbol_list;                   /* or explicit base assets, "BTC,ETH" */
    double rate;                               /* synthetic trades per second per venue */
    uint64_t seed;                             /* synthetic PRNG seed */
    size_t history;                            /* synthetic trades kept per symbol */
    uint64_t limit;                            /* synthetic orders per venue, 0 = no end */
    double speed;                              /* pace multiplier, 0 = max */
    bool start_now;                            /* start the clocks at launch */
    int64_t ping_interval_ns;                  /* Binance server pings */
    int64_t pong_timeout_ns;                   /* close when pongs stop for this long */
    int64_t lifetime_ns;                       /* close websockets after this long, 0 = never */
    int64_t weight_limit;                      /* Binance weight per window, 0 = real limits */
    int64_t weight_window_ns;                  /* Binance weight window */
    int64_t ban_ns;                            /* Retry-After of a 418 */
    bool send_all;                             /* every event to every connection */
    int64_t settle_ns;                         /* hold a connection after it subscribes */
    fx_fault_t faults[FX_OPT_FAULTS_MAX];      /* --fault */
    size_t n_faults;                           /* faults */
    int log_level;                             /* log_level_t */
} fx_opts_t;

/*
 * Parse argv into *ret (strings borrowed from argv). Returns FX_OPTS_RUN, 0 after --help or
 * --version, or 2 after printing a usage error to stderr.
 */
int fx_opts_parse(fx_opts_t *ret, int argc, char **argv);

void fx_opts_usage(FILE *out);

#endif
