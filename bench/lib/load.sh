# Shared set-up of the load benchmarks (sourced by bench/exchange and bench/pages; not run on its
# own): build the release binary, create (and at exit drop) the database, load generated
# graduates as files of up to 1,000,000 rows, place them at the hub and cut the ministry's
# packages, start `gradhub serve`, and run wrk.
#
# The sourcing script sets `set -euo pipefail`, runs from the repository root, and reads:
#   GRADHUB_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres   server for the database
#   GRADHUB_BENCH_BACKEND=postgres|sqlite
#   GRADHUB_BENCH_SECONDS=20      wrk duration per measurement
#   GRADHUB_BENCH_KEEP=1          keep the loaded database (and the work directory) at the end
#
# Functions, in the order a benchmark calls them:
#   bench_init PREFIX DBNAME   work directory /tmp/PREFIX.XXXXXX, database DBNAME (PostgreSQL);
#                              checks the tools, builds, creates the database, migrates, adds the
#                              sending organisation; sets bin, work, backend, duration, and exports
#                              GRADHUB_DATABASE_URL. Installs the exit trap (bench_cleanup).
#   bench_load RECORDS         demo-data + ingest in files of ≤ 1,000,000; sets load_s
#   bench_place                `gradhub jobs run` (place, cut the ministry's packages);
#                              sets place_s and stored (records accepted)
#   bench_analyze [TABLE]      VACUUM ANALYZE (PostgreSQL) / ANALYZE (SQLite)
#   bench_serve                starts the server on a random loopback port; sets base, serve_pid
#   bench_wrk OUT ARGS…        wrk -t2 -c64 for the duration, output kept in OUT; sets rps, p50,
#                              p99, non2xx, errors (socket errors, "0" if none)
#   bench_ms LATENCY           wrk's "850.00us" / "12.70ms" / "1.20s" as milliseconds

bench_cleanup() {
  # Wait for the server to exit: its connections must be closed before the database is dropped.
  [ -n "${serve_pid:-}" ] && { kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; } || true
  if [ "${GRADHUB_BENCH_KEEP:-0}" != 1 ]; then
    [ -n "${work:-}" ] && rm -rf "$work"
    [ "${backend:-}" = postgres ] && [ -n "${dbname:-}" ] &&
      psql -q "$pg" -c "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1 || true
  fi
}

bench_init() {
  pg=${GRADHUB_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  backend=${GRADHUB_BENCH_BACKEND:-postgres}
  duration=${GRADHUB_BENCH_SECONDS:-20}
  dbname=$2
  case $backend in
    postgres) command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; } ;;
    sqlite) ;;
    *) echo "GRADHUB_BENCH_BACKEND: postgres or sqlite" >&2; exit 1 ;;
  esac
  local tool
  for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install $tool)" >&2; exit 1; }
  done
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  trap bench_cleanup EXIT

  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/gradhub
  if [ "$backend" = postgres ]; then
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname" >/dev/null
    export GRADHUB_DATABASE_URL="${pg%/*}/$dbname"
  else
    export GRADHUB_DATABASE_URL="$work/hub.db"
  fi
  export GRADHUB_LOG=warn
  "$bin" migrate >/dev/null
  "$bin" orgs add --code edu-bench --name 基准教育部门 --level sender --parent 000000 >/dev/null
}

# Load: files of up to 1,000,000 generated graduates, each ingested as one batch.
bench_load() {
  local records=$1 left=$1 seed=1 n t0
  t0=$(date +%s)
  while [ "$left" -gt 0 ]; do
    n=$(( left < ${BENCH_FILE_ROWS:-1000000} ? left : ${BENCH_FILE_ROWS:-1000000} ))
    "$bin" demo-data --rows "$n" --seed "$seed" --fault-percent 1 -o "$work/f.csv" >/dev/null 2>&1
    "$bin" ingest "$work/f.csv" --source edu-bench --json >/dev/null
    left=$(( left - n )); seed=$(( seed + 1 ))
    echo "loaded $(( records - left )) …" >&2
  done
  rm -f "$work/f.csv"
  load_s=$(( $(date +%s) - t0 ))
}

# Place every record at the hub and cut the ministry's packages (one per province).
bench_place() {
  local t0
  t0=$(date +%s)
  "$bin" jobs run >/dev/null
  place_s=$(( $(date +%s) - t0 ))
  stored=$("$bin" batches --json --limit 1000 | grep -o '"accepted": *[0-9]*' | awk -F: '{s+=$2} END {print s}')
}

# Measure the steady state, not the autovacuum that follows a bulk load.
bench_analyze() {
  if [ "$backend" = postgres ]; then
    # CHECKPOINT: the flush of the load's dirty pages happens now, not during a measurement.
    psql -q "$GRADHUB_DATABASE_URL" -c "VACUUM ANALYZE ${1:-}" -c "CHECKPOINT" >/dev/null
  else
    sqlite3 "$GRADHUB_DATABASE_URL" "ANALYZE;" >/dev/null 2>&1 || true
  fi
}

bench_serve() {
  local port=$((20000 + RANDOM % 20000))
  base="http://127.0.0.1:$port"
  GRADHUB_BIND="127.0.0.1:$port" GRADHUB_JOBS_INTERVAL_SECS=0 "$bin" serve 2>"$work/serve.err" &
  serve_pid=$!
  local _
  for _ in $(seq 1 100); do curl -sf "$base/health" >/dev/null && return 0; sleep 0.1; done
  echo "the server did not answer /health:" >&2; cat "$work/serve.err" >&2; exit 1
}

bench_wrk() {
  local out=$1; shift
  wrk -t2 -c64 -d"${duration}s" --latency "$@" >"$out" 2>&1
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1=="50%" {print $2}' "$out")
  p99=$(awk '$1=="99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
  non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors/ {sub(/.*Socket errors: /, ""); print}' "$out")
  errors=${errors:-0}
}

bench_ms() {
  awk -v t="$1" 'BEGIN {
    v = t + 0
    if (t ~ /us$/) v /= 1000; else if (t ~ /ms$/) v += 0; else if (t ~ /m$/) v *= 60000; else if (t ~ /s$/) v *= 1000
    printf "%.2f", v
  }'
}
