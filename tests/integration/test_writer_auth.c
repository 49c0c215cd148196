/*
 * test_writer_auth: credentials, end to end, against a server that requires a password.
 *   - a wrong password: one clear error line, then quiet retries with backoff (the process stays
 *     up, db=down, last_error says why), and the password appears nowhere in the output or the
 *     heartbeats;
 *   - database.password_file with the right password: connected, trades written;
 *   - no url at all: libpq's PG* variables and a passfile (PGPASSFILE) are enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "wtest.h"
#include "xalloc.h"

#define WAIT_MS        20000
#define STOP_MS        15000
#define RIGHT_PASSWORD "Right-Pw-5f3c1e"
#define WRONG_PASSWORD "Wrong-Pw-9b7a2d"
#define MIN_RETRIES    5

static wtest_t s_t;

static bool
s_failed_enough(const msg_heartbeat_t *beat, void *arg)
{
    return wtest_counter(beat, "db_errors_total") >= MIN_RETRIES;
}

static bool
s_db_up(const msg_heartbeat_t *beat, void *arg)
{
    const char *db = wtest_label(beat, "db");
    return db && strcmp(db, "up") == 0;
}

/* No label of the latest heartbeat may hold a password. */
static void
s_beat_clean(void)
{
    const msg_heartbeat_t *b = &s_t.beat.body.heartbeat;
    for (uint32_t i = 0; i < b->label_count; i++) {
        WCHECK(&s_t, !strstr(b->labels[i].value, WRONG_PASSWORD), "password in label %s",
               b->labels[i].key);
        WCHECK(&s_t, !strstr(b->labels[i].value, RIGHT_PASSWORD), "password in label %s",
               b->labels[i].key);
    }
}

static void
s_log_clean(void)
{
    WCHECK(&s_t, spawn_count_log(s_t.log, WRONG_PASSWORD) == 0, "the wrong password was logged");
    WCHECK(&s_t, spawn_count_log(s_t.log, RIGHT_PASSWORD) == 0, "the password was logged");
}

/* One trade through the writer; true when it is in the table. */
static void
s_trade_lands(uint64_t seq, const char *id)
{
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_TRADES,
               .seq = seq,
               .source = "c",
               .sent_ns = clock_now_ns()};
    m.body.trades.count = 1;
    m.body.trades.items = xcalloc(1, sizeof(msg_trade_t));
    msg_trade_t *t = &m.body.trades.items[0];
    snprintf(t->inst.exchange, sizeof t->inst.exchange, "bybit");
    snprintf(t->inst.symbol, sizeof t->inst.symbol, "ETHUSDT");
    snprintf(t->trade_id, sizeof t->trade_id, "%s", id);
    t->price = (decimal_t){192250, -2};
    t->qty = (decimal_t){10, -3};
    t->side = MSG_SIDE_BUY;
    wtest_send(&s_t, s_t.pub, &m);
    msg_finish(&m);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trades WHERE trade_id = '%s'", id);
    WCHECK(&s_t, wtest_wait_sql(&s_t, sql, 1, WAIT_MS), "trade %s not written", id);
}

static void
s_wrong_password(void)
{
    char db[1024];
    snprintf(db, sizeof db, "  url: \"postgresql://tickpipe:%s@/postgres?host=%s&port=%d\"\n",
             WRONG_PASSWORD, pgtmp_dir(s_t.pg), pgtmp_port(s_t.pg));
    wtest_write_config(&s_t, "  retry_min: 50ms\n  retry_max: 300ms\n", db);
    wtest_start_writer(&s_t, "writer-wrong", NULL);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-wrong", s_failed_enough, NULL, WAIT_MS),
           "fewer than %d retries", MIN_RETRIES);
    int status = 0;
    WCHECK(&s_t, spawn_wait(s_t.writer, 0, &status) < 0, "the writer exited on a wrong password");
    const msg_heartbeat_t *b = &s_t.beat.body.heartbeat;
    WCHECK(&s_t, strcmp(wtest_label(b, "db"), "down") == 0, "db label '%s'", wtest_label(b, "db"));
    const char *err = wtest_label(b, "last_error");
    WCHECK(&s_t, err && strstr(err, "password authentication failed"), "last_error '%s'",
           err ? err : "(none)");
    s_beat_clean();
    int lines = spawn_count_log(s_t.log, "password authentication failed");
    WCHECK(&s_t, lines == 1, "%d log lines about the password after %lld attempts, expected 1",
           lines, (long long) wtest_counter(b, "db_errors_total"));
    s_log_clean();
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d", rc);
    WPASS("wrong password: one error line, %lld retries, no password anywhere",
          (long long) wtest_counter(b, "db_errors_total"));
}

static void
s_password_file(void)
{
    char path[WTEST_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/db-password", s_t.dir);
    FILE *f = fopen(path, "w");
    WCHECK(&s_t, f != NULL, "cannot write %s", path);
    fprintf(f, "%s\n", RIGHT_PASSWORD);
    fclose(f);
    char db[2048];
    snprintf(db, sizeof db, "  url: \"@URL@\"\n  password_file: %s\n", path);
    wtest_write_config(&s_t, NULL, db);
    wtest_start_writer(&s_t, "writer-file", NULL);
    wtest_connect_producers(&s_t);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-file", s_db_up, NULL, WAIT_MS), "not up");
    s_beat_clean();
    s_trade_lands(1, "file-1");
    s_log_clean();
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d", rc);
    WPASS("database.password_file: connected and wrote");
}

static void
s_pg_environment(void)
{
    char passfile[WTEST_PATH_MAX + 16];
    snprintf(passfile, sizeof passfile, "%s/pgpass", s_t.dir);
    FILE *f = fopen(passfile, "w");
    WCHECK(&s_t, f != NULL, "cannot write %s", passfile);
    fprintf(f, "*:*:*:%s:%s\n", PGTMP_DEFAULT_USER, RIGHT_PASSWORD);
    fclose(f);
    WCHECK(&s_t, chmod(passfile, 0600) == 0, "chmod");
    char host[WTEST_PATH_MAX], port[32], pass[WTEST_PATH_MAX + 32];
    snprintf(host, sizeof host, "PGHOST=%s", pgtmp_dir(s_t.pg));
    snprintf(port, sizeof port, "PGPORT=%d", pgtmp_port(s_t.pg));
    snprintf(pass, sizeof pass, "PGPASSFILE=%s", passfile);
    const char *env[] = {host, port, pass, "PGUSER=" PGTMP_DEFAULT_USER, "PGDATABASE=postgres",
                         NULL};
    wtest_write_config(&s_t, NULL, "  url: \"\"\n");
    wtest_start_writer(&s_t, "writer-env", env);
    wtest_wait_subscribed(&s_t);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-env", s_db_up, NULL, WAIT_MS), "not up");
    s_beat_clean();
    s_trade_lands(2, "env-1");
    s_log_clean();
    WCHECK(&s_t, spawn_count_log(s_t.log, "(PG* environment)") > 0, "target not shown");
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d", rc);
    WPASS("PG* environment and passfile: connected and wrote");
}

int
main(void)
{
    pgtmp_options_t opts = {.password = RIGHT_PASSWORD};
    wtest_init(&s_t, "wauth", &opts);
    s_wrong_password();
    s_password_file();
    s_pg_environment();
    wtest_finish(&s_t);
    printf("all passed\n");
    return 0;
}
