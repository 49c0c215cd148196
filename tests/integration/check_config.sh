#!/usr/bin/env bash
# check_config: `tickpipe check-config` and every binary's shared options, end to end.
# Usage: check_config.sh TICKPIPE_BINARY SOURCE_ROOT
set -u
bin=$1
root=$2
fail=0
expect() { # expect DESCRIPTION COMMAND...: command must succeed
    local what=$1; shift
    if ! "$@"; then echo "not ok: $what"; fail=1; else echo "ok: $what"; fi
}

out=$("$bin" check-config "$root/tests/data/broken.yaml" 2>&1); rc=$?
expect "broken config exits 2 (got $rc)" test "$rc" -eq 2
f="$root/tests/data/broken.yaml"
for line in \
    "$f:3: log.level: 'chatty' is not one of error|warn|notice|info|debug" \
    "$f:5: writer.batch_rows: '-5' is out of range [1, 1000000]" \
    "$f:6: writer.batch_time: '3 fortnights' is not a duration (a number and a unit: ns us ms s m h d)" \
    "$f:8: aggregator.intervals: '7m' is not one of 1s 5s 15s 1m 5m 15m 1h 4h 1d" \
    "$f:9: aggregator.session_anchor: '25:00' is not HH:MM (UTC) or weekly" \
    "$f:11: supervisor.listen: '127.0.0.1' is not address:port" \
    "$f:12: supervisor.unknown_key: unknown key" \
    "$f:14: programs.writer.binary: required" \
    "$f: 8 errors"; do
    expect "reports '$line'" grep -qxF -- "$line" <<<"$out"
done

out=$("$bin" check-config "$root/deploy/tickpipe.yaml" 2>&1); rc=$?
expect "reference config is valid (rc $rc: $out)" test "$rc" -eq 0

out=$(TICKPIPE_WRITER__BATCH_ROWS=zero "$bin" check-config "$root/deploy/tickpipe.yaml" 2>&1); rc=$?
expect "env override error exits 2" test "$rc" -eq 2
expect "env override error names the variable" grep -qF \
    "env TICKPIPE_WRITER__BATCH_ROWS: writer.batch_rows: 'zero' is not an integer" <<<"$out"

"$bin" check-config /nonexistent.yaml >/dev/null 2>&1; rc=$?
expect "missing file exits 2" test "$rc" -eq 2
"$bin" frobnicate >/dev/null 2>&1; rc=$?
expect "unknown command exits 2" test "$rc" -eq 2
expect "--help exits 0" "$bin" --help
expect "--version prints the version" grep -q "^tickpipe [0-9]" <<<"$("$bin" --version)"
expect "config-reference equals deploy/tickpipe.yaml" \
    cmp -s <("$bin" config-reference) "$root/deploy/tickpipe.yaml"
exit $fail
