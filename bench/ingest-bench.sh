#!/usr/bin/env bash
# Ingest throughput of `pgadvisor workload` vs pgbadger on PostgreSQL logs.
#
# Usage: bench/ingest-bench.sh [options] LOG [LOG...]
#
#   --pgadvisor PATH   binary (default: target/release/pgadvisor in the repo)
#   --runs N           pgadvisor repetitions per log (default 3; best wall time,
#                      max RSS over the runs are reported)
#   --pgbadger-j1      also run pgbadger -j 1 (adds columns)
#   --reuse-pgbadger   take pgbadger timings from existing
#                      <logdir>/<stem>.pgbadger-jN.json.time files (written by
#                      bench/pgbadger-json.sh, must be newer than the log)
#                      instead of re-running pgbadger (~1.5 MB/s, minutes/log)
#   --no-pgbadger      pgadvisor only
#
# For every log: size and line count; `pgadvisor workload LOG --format json
# --top 0 >/dev/null` under /usr/bin/time -v N times; then pgbadger -j 2 once
# (same JSON output mode, via bench/pgbadger-json.sh, output to a temp dir)
# under /usr/bin/time -v. Prints a markdown table; ratio = pgbadger wall time
# / pgadvisor best wall time (the goal is >= 100).
#
# The file is read once before timing so both tools run on a warm page cache.
# The 1-minute load average is printed before each measurement: on a shared
# machine a concurrent build skews results, so rerun when load is high.
# pgbadger RSS is the peak of the summed RSS of its process group (parent +
# -j workers, sampled every 0.25 s); GNU time's single-process max is in the
# footnote.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PGADVISOR="$REPO/target/release/pgadvisor"
RUNS=3
J1=0
REUSE=0
NOPGB=0
LOGS=()

die() { echo "ingest-bench: $*" >&2; exit 2; }
note() { echo "[ingest-bench] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --pgadvisor) PGADVISOR="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --pgbadger-j1) J1=1; shift ;;
    --reuse-pgbadger) REUSE=1; shift ;;
    --no-pgbadger) NOPGB=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) LOGS+=("$1"); shift ;;
  esac
done
[ ${#LOGS[@]} -gt 0 ] || die "no LOG given (see --help)"
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] || die "--runs must be >= 1"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is required"
if [ ! -x "$PGADVISOR" ]; then
  die "pgadvisor binary not found or not executable: $PGADVISOR
  build it first:  (cd $REPO && cargo build --release)   or pass --pgadvisor PATH"
fi
for l in "${LOGS[@]}"; do [ -r "$l" ] || die "cannot read log: $l"; done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# time_field FILE -> "wall_seconds max_rss_kb exit_status"
time_fields() {
  awk -F': ' '
    /Elapsed \(wall clock\) time/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; w = s }
    /Maximum resident set size/ { r = $2 }
    /Exit status/ { e = $2 }
    END { printf "%s %s %s\n", w, r, e }' "$1"
}
load1() { cut -d' ' -f1 /proc/loadavg; }

# pgbadger_timing LOG JOBS -> "wall_s tree_peak_kb max_rss_kb" (runs or reuses)
pgbadger_timing() {
  local log="$1" j="$2" dir stem tf
  dir="$(dirname "$log")"; stem="$(basename "$log")"; stem="${stem%.log}"
  tf="$dir/$stem.pgbadger-j$j.json.time"
  if [ "$REUSE" -eq 1 ] && [ -f "$tf" ] && [ "$tf" -nt "$log" ]; then
    note "reusing $tf"
  else
    [ "$REUSE" -eq 1 ] && note "no fresh $tf, running pgbadger"
    note "pgbadger -j $j $log (load1 $(load1)) ..."
    "$HERE/pgbadger-json.sh" "$log" "$TMP/$stem.j$j.json" -j "$j" >&2 || die "pgbadger failed on $log"
    tf="$TMP/$stem.j$j.json.time"
  fi
  awk -F': ' '$1 == "wall_s" { w = $2 } $1 == "tree_peak_rss_kb" { t = $2 } $1 == "max_rss_kb" { r = $2 }
              END { printf "%s %s %s\n", w, t, r }' "$tf"
}

declare -a ROWS=() FOOT=()
for log in "${LOGS[@]}"; do
  bytes=$(stat -c %s "$log")
  note "$log: counting lines / warming page cache"
  lines=$(wc -l <"$log")
  mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')

  best=""; maxrss=0
  for i in $(seq 1 "$RUNS"); do
    note "pgadvisor run $i/$RUNS on $log (load1 $(load1))"
    rc=0
    /usr/bin/time -v -o "$TMP/adv.time" "$PGADVISOR" workload "$log" --format json --top 0 \
      >/dev/null 2>"$TMP/adv.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
      sed 's/^/  /' "$TMP/adv.err" >&2
      die "pgadvisor exited with status $rc on $log"
    fi
    read -r w r _ < <(time_fields "$TMP/adv.time")
    note "  wall ${w}s, max RSS $((r / 1024)) MB"
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$w; fi
    [ "$r" -gt "$maxrss" ] && maxrss=$r
  done

  row=$(awk -v n="$(basename "$log")" -v mb="$mb" -v b="$bytes" -v l="$lines" -v s="$best" -v r="$maxrss" '
    BEGIN { if (s <= 0) s = 0.005   # GNU time has 10 ms resolution
            printf "| %s | %s | %d | %.2f | %.1f | %.0f | %.1f", n, mb, l, s, b / 1048576 / s, l / s, r / 1024 }')

  if [ "$NOPGB" -eq 0 ]; then
    read -r pw pt pr < <(pgbadger_timing "$log" 2)
    row+=$(awk -v b="$bytes" -v s="$best" -v pw="$pw" -v pt="$pt" '
      BEGIN { if (s <= 0) s = 0.005
              printf " | %.1f | %.2f | %.1f | %.0fx", pw, b / 1048576 / pw, pt / 1024, pw / s }')
    FOOT+=("$(basename "$log"): pgbadger -j 2 largest single process (GNU time) $((pr / 1024)) MB")
    if [ "$J1" -eq 1 ]; then
      read -r qw qt qr < <(pgbadger_timing "$log" 1)
      row+=$(awk -v b="$bytes" -v s="$best" -v pw="$qw" -v pt="$qt" '
        BEGIN { if (s <= 0) s = 0.005
                printf " | %.1f | %.2f | %.1f | %.0fx", pw, b / 1048576 / pw, pt / 1024, pw / s }')
    fi
  fi
  ROWS+=("$row |")
done

echo
echo "pgadvisor: $PGADVISOR ($RUNS runs, best wall / max RSS); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
hdr="| log | MB | lines | pgadvisor s | MB/s | lines/s | peak RSS MB"
sep="|---|---:|---:|---:|---:|---:|---:"
if [ "$NOPGB" -eq 0 ]; then
  hdr+=" | pgbadger s | pgbadger MB/s | pgbadger RSS MB | ratio"
  sep+="|---:|---:|---:|---:"
  if [ "$J1" -eq 1 ]; then
    hdr+=" | pgbadger -j1 s | -j1 MB/s | -j1 RSS MB | ratio -j1"
    sep+="|---:|---:|---:|---:"
  fi
fi
echo "$hdr |"
echo "$sep|"
printf '%s\n' "${ROWS[@]}"
if [ "$NOPGB" -eq 0 ]; then
  echo
  echo "pgbadger = \`pgbadger -j 2 -f stderr -x json\`; RSS = peak summed RSS of its process group; ratio = pgbadger s / pgadvisor s."
  for f in "${FOOT[@]}"; do echo "- $f"; done
fi
