#!/usr/bin/env bash
# Side-by-side comparison in one run, on one database (see Benchmarks/RESULTS.md):
#
#   1. builds docket and docket-bench in release, starts `docket serve` on a fresh data
#      directory (its embedded PostgreSQL, or DATABASE_URL) and loads the population;
#   2. pgbench with Benchmarks/sql/transition.pgbench — the statements the store sends for one
#      transition, written by hand — at 1, 4 and 16 clients, then `docket-bench fire` at the same
#      client counts;
#   3. redis-benchmark PING against a redis-server started here and against Docket, at 50
#      clients and with 16-deep pipelining;
#   4. ITEM.GET latency at 16 clients, `docket status` wall time, server RSS with 1,000 idle
#      connections and under the mixed load;
#   5. prints every ratio against its target.
#
# Environment: ITEMS (10000), DURATION seconds per run (15), WARMUP (3), CLIENTS ("1 4 16"),
# PGBENCH_MODE (extended: unnamed statements, parsed and planned each time, the plain way to
# send them; the store prepares its two statements once per connection, and one more pgbench
# run at 16 clients with -M prepared is shown beside the ratios), PGBENCH_SCRIPT,
# PING_REQUESTS (500000), PIPELINE_REQUESTS (3000000),
# DATABASE_URL (use this PostgreSQL instead of the embedded one), SKIP_BUILD=1, KEEP=1 (reuse
# the data directory and population of the previous run).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ITEMS=${ITEMS:-10000}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CLIENTS=${CLIENTS:-"1 4 16"}
PGBENCH_MODE=${PGBENCH_MODE:-extended}
PGBENCH_SCRIPT=${PGBENCH_SCRIPT:-$ROOT/Benchmarks/sql/transition.pgbench}
PING_REQUESTS=${PING_REQUESTS:-500000}
PIPELINE_REQUESTS=${PIPELINE_REQUESTS:-3000000}
KEEP=${KEEP:-0}

for tool in pgbench psql redis-server redis-benchmark redis-cli jq python3; do
    command -v "$tool" >/dev/null || { echo "compare.sh needs $tool" >&2; exit 1; }
done

OUT=$BENCH_DIR/compare-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
trap cleanup EXIT

build
DATA=$BENCH_DIR/data
if [ "$KEEP" != 1 ]; then
    [ -f "$DATA/postgres.location" ] && rm -rf "$(cat "$DATA/postgres.location")"
    rm -rf "$DATA" "$BENCH_DIR/population.json"
fi
start_server "$DATA"
BENCH=("$BIN/docket-bench")
STATE=(--port "$PORT" --state "$BENCH_DIR/population.json")

log "memory: 1,000 idle authenticated connections on the fresh server"
"${BENCH[@]}" idle "${STATE[@]}" --token-file "$TOKEN_FILE" --clients 1000 --hold 3 --pid "$SERVER_PID" | tee "$OUT/idle.txt"

log "populate: $ITEMS thematic projects, 100 policy papers"
"${BENCH[@]}" populate "${STATE[@]}" --token-file "$TOKEN_FILE" --items "$ITEMS" --papers 100 | tee "$OUT/populate.txt"

settle() { psql -q -X "$DB_URL" -c 'VACUUM ANALYZE' -c 'CHECKPOINT' >/dev/null; }

# pgbench_tps MODE CLIENTS OUTPUT: the transition script for DURATION seconds after a
# settle; shows and keeps pgbench's report in OUTPUT and prints its tps.
pgbench_tps() {
    local threads=$(( $2 < 2 ? 1 : 2 ))
    settle
    log "pgbench -M $1 -c $2 -j $threads -T $DURATION ($(basename "$PGBENCH_SCRIPT"))"
    pgbench -n -M "$1" -c "$2" -j "$threads" -T "$DURATION" -D items="$ITEMS" \
        -f "$PGBENCH_SCRIPT" "$DB_URL" 2>&1 | tee "$3" >&2
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$3" | head -1
}

declare -A PG DK
for c in $CLIENTS; do
    PG[$c]=$(pgbench_tps "$PGBENCH_MODE" "$c" "$OUT/pgbench-$c.txt")
done
# For comparison: pgbench with its statements prepared, as the store prepares its own.
PGP16=$(pgbench_tps prepared 16 "$OUT/pgbench-prepared-16.txt")
for c in $CLIENTS; do
    settle
    log "docket-bench fire --clients $c --duration $DURATION"
    "${BENCH[@]}" fire "${STATE[@]}" --clients "$c" --duration "$DURATION" --warmup "$WARMUP" --json >"$OUT/fire-$c.json"
    jq -r '"fire: \(.clients) clients: \(.ops_per_second | floor) ops/s, p50 \(.latency.p50_us) us, p99 \(.latency.p99_us) us, errors \(.errors)"' "$OUT/fire-$c.json"
    DK[$c]=$(jnum "$OUT/fire-$c.json" .ops_per_second)
done

settle
log "docket-bench get --clients 16"
"${BENCH[@]}" get "${STATE[@]}" --clients 16 --duration "$DURATION" --warmup "$WARMUP" --json >"$OUT/get-16.json"
jq -r '"get: 16 clients: \(.ops_per_second | floor) ops/s, p50 \(.latency.p50_us) us, p99 \(.latency.p99_us) us"' "$OUT/get-16.json"
GET_P99_MS=$(jq -r '.latency.p99_us / 1000' "$OUT/get-16.json")

log "redis-benchmark PING: redis-server and Docket"
start_redis
TOKEN=$(cat "$TOKEN_FILE")
rb() { redis-benchmark -h 127.0.0.1 "$@" -t ping -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -2; }
rps() { sed -n "s/^$1: \([0-9.]*\) requests per second.*/\1/p" | tail -1; }
rb -p "$REDIS_PORT" -c 50 -n "$PING_REQUESTS" | tee "$OUT/redis-50.txt"
rb -p "$PORT" --user admin -a "$TOKEN" -c 50 -n "$PING_REQUESTS" | tee "$OUT/docket-ping-50.txt"
rb -p "$REDIS_PORT" -c 50 -P 16 -n "$PIPELINE_REQUESTS" | tee "$OUT/redis-50-P16.txt"
rb -p "$PORT" --user admin -a "$TOKEN" -c 50 -P 16 -n "$PIPELINE_REQUESTS" | tee "$OUT/docket-ping-50-P16.txt"
stop_redis
R50=$(rps PING_MBULK <"$OUT/redis-50.txt"); D50=$(rps PING_MBULK <"$OUT/docket-ping-50.txt")
R16=$(rps PING_MBULK <"$OUT/redis-50-P16.txt"); D16=$(rps PING_MBULK <"$OUT/docket-ping-50-P16.txt")
R50I=$(rps PING_INLINE <"$OUT/redis-50.txt"); D50I=$(rps PING_INLINE <"$OUT/docket-ping-50.txt")
R16I=$(rps PING_INLINE <"$OUT/redis-50-P16.txt"); D16I=$(rps PING_INLINE <"$OUT/docket-ping-50-P16.txt")

log "docket status, 20 times (whole process, wall time)"
STATUS_MS=()
for _ in $(seq 1 20); do
    t0=$(date +%s%N)
    "$BIN/docket" status --server "127.0.0.1:$PORT" --user admin --token "$TOKEN" >/dev/null
    t1=$(date +%s%N)
    STATUS_MS+=("$(( (t1 - t0) / 1000000 ))")
done
printf '%s\n' "${STATUS_MS[@]}" | sort -n >"$OUT/status-ms.txt"
STATUS_MEDIAN=$(sed -n '10p' "$OUT/status-ms.txt"); STATUS_MAX=$(tail -1 "$OUT/status-ms.txt")
echo "docket status: median $STATUS_MEDIAN ms, max $STATUS_MAX ms (20 runs)"

log "memory: the mixed load"
"${BENCH[@]}" mixed "${STATE[@]}" --clients 16 --duration "$DURATION" --warmup "$WARMUP" --pid "$SERVER_PID" | tee "$OUT/mixed-16.txt"

{
    echo
    echo "== Ratios ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $ITEMS items, $DURATION s runs, pgbench -M $PGBENCH_MODE)"
    printf '%-44s %12s %12s %8s %8s  %s\n' "measure" "docket" "baseline" "ratio" "target" "verdict"
    for c in $CLIENTS; do
        r=$(ratio "${DK[$c]}" "${PG[$c]}")
        target=1.0; [ "$c" = 1 ] && target="-"
        v=$([ "$target" = "-" ] && echo "(no target)" || verdict "$r" ">=" "$target")
        printf '%-44s %12.1f %12.1f %8s %8s  %s\n' "fire/s vs pgbench same SQL, $c client(s)" "${DK[$c]}" "${PG[$c]}" "$r" "$target" "$v"
    done
    if [ -n "${DK[16]:-}" ] && [ -n "$PGP16" ]; then
        r=$(ratio "${DK[16]}" "$PGP16"); printf '%-44s %12.1f %12.1f %8s %8s  %s\n' "  (fire vs pgbench -M prepared, 16 clients)" "${DK[16]}" "$PGP16" "$r" "" ""
    fi
    r=$(ratio "$D50" "$R50"); printf '%-44s %12.0f %12.0f %8s %8s  %s\n' "PING/s vs redis-server, 50 clients" "$D50" "$R50" "$r" 0.7 "$(verdict "$r" ">=" 0.7)"
    r=$(ratio "$D16" "$R16"); printf '%-44s %12.0f %12.0f %8s %8s  %s\n' "PING/s vs redis-server, 50 clients, -P 16" "$D16" "$R16" "$r" 0.5 "$(verdict "$r" ">=" 0.5)"
    r=$(ratio "$D50I" "$R50I"); printf '%-44s %12.0f %12.0f %8s %8s  %s\n' "  (inline PING, 50 clients)" "$D50I" "$R50I" "$r" "" ""
    r=$(ratio "$D16I" "$R16I"); printf '%-44s %12.0f %12.0f %8s %8s  %s\n' "  (inline PING, 50 clients, -P 16)" "$D16I" "$R16I" "$r" "" ""
    printf '%-44s %12s %12s %8s %8s  %s\n' "ITEM.GET p99 ms, 16 clients" "$GET_P99_MS" "" "" "<= 2" "$(verdict "$GET_P99_MS" "<=" 2)"
    printf '%-44s %12s %12s %8s %8s  %s\n' "docket status wall ms (median of 20)" "$STATUS_MEDIAN" "" "" "<= 100" "$(verdict "$STATUS_MEDIAN" "<=" 100)"
    echo "outputs in $OUT"
} | tee "$OUT/summary.txt"
