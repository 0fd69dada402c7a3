# Shared by compare.sh and scale.sh: build, start a release docket server on its own data
# directory (with its embedded PostgreSQL, or --database-url), find the database's URL for
# psql and pgbench, and stop everything on exit.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/.build/bench}
BIN=${BIN:-$ROOT/.build/release}
SERVER_PID=
REDIS_PID=

log() { printf '\n== %s\n' "$*" >&2; }

build() {
    [ "${SKIP_BUILD:-0}" = 1 ] && return 0
    local lock=()
    command -v flock >/dev/null && lock=(flock "${DOCKET_BUILD_LOCK:-/tmp/docket-build.lock}")
    for product in docket docket-bench; do
        log "swift build -c release --product $product"
        (cd "$ROOT" && "${lock[@]}" swift build -c release --product "$product")
    done
}

# start_server DATA_DIR [extra docket serve args...]: sets PORT, SERVER_PID, DB_URL, TOKEN_FILE.
start_server() {
    local data=$1; shift
    mkdir -p "$data"
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    local url=()
    [ -n "${DATABASE_URL:-}" ] && url=(--database-url "$DATABASE_URL")
    (cd "$ROOT" && exec "$BIN/docket" serve --data-dir "$data" --listen 127.0.0.1:0 "${url[@]}" "$@" \
        >"$data/serve.out" 2>"$data/serve.err") &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$data/serve.out" 2>/dev/null | head -1)
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$data/serve.err" >&2; echo "docket serve exited" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$PORT" ] || { echo "docket serve did not start" >&2; exit 1; }
    TOKEN_FILE=$data/admin.token
    if [ -n "${DATABASE_URL:-}" ]; then
        DB_URL=$DATABASE_URL
    else
        # The embedded cluster records its socket in <cluster>/state.json.
        local cluster=$data/postgres
        [ -f "$data/postgres.location" ] && cluster=$(cat "$data/postgres.location")
        local socket pgport
        socket=$(sed -n 's/.*"socketDirectory" *: *"\(.*\)".*/\1/p' "$cluster/state.json" | sed 's#\\/#/#g')
        pgport=$(sed -n 's/.*"port" *: *\([0-9]*\).*/\1/p' "$cluster/state.json")
        DB_URL="postgres://docket@/docket?host=$socket&port=$pgport"
    fi
    log "docket serve (pid $SERVER_PID) on 127.0.0.1:$PORT, database $DB_URL"
}

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    SERVER_PID=
}

# start_redis: sets REDIS_PORT and REDIS_PID (a redis-server on a free port, no persistence).
start_redis() {
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --logfile "$BENCH_DIR/redis.log" &
    REDIS_PID=$!
    for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "redis-server did not start" >&2; exit 1
}

stop_redis() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill -TERM "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
    fi
    REDIS_PID=
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
    stop_redis
    stop_server
}

# A JSON number from a docket-bench --json report: jnum FILE PATH (jq path).
jnum() { jq -r "$2" "$1"; }

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# verdict VALUE OP TARGET: "met" or "NOT met".
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print (v == "n/a") ? "n/a" : (ok ? "met" : "NOT met") }'; }
