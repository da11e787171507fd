#!/usr/bin/env bash
# Run pgbadger on one PostgreSQL stderr log and dump its internal statistics as
# JSON, timing the run.
#
# Usage: bench/pgbadger-json.sh LOG OUT.json [-j N]
#
#   -j N   pgbadger -j (parallel processes splitting the single file; default 1)
#
# Writes:
#   OUT.json        pgbadger -x json output (see bench/compare-pgbadger.py for
#                   the keys that matter)
#   OUT.json.time   "key: value" summary (wall_s, max_rss_kb, tree_peak_rss_kb,
#                   log_bytes, log MB/s, command ...) followed by the raw
#                   `/usr/bin/time -v` report.
#
# max_rss_kb is GNU time's "Maximum resident set size": for -j > 1 this is the
# largest single process (parent or one worker), NOT the sum. tree_peak_rss_kb
# is the peak of the summed RSS of the whole process group, sampled every
# 0.25 s, so it approximates the real memory footprint of a parallel run.
#
# The log_line_prefix must be the one bench/gen-logs.sh configures:
#   '%m [%p] %q%u@%d '   (override with PGBADGER_PREFIX=...)
set -euo pipefail

die() { echo "pgbadger-json: $*" >&2; exit 2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }

[ $# -ge 2 ] || usage
LOG="$1"; OUTJ="$2"; shift 2
JOBS=1
while [ $# -gt 0 ]; do
  case "$1" in
    -j) JOBS="$2"; shift 2 ;;
    -j*) JOBS="${1#-j}"; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] || die "-j must be a positive integer"
[ -r "$LOG" ] || die "cannot read log $LOG"
PGBADGER="${PGBADGER:-/usr/bin/pgbadger}"
[ -x "$PGBADGER" ] || die "pgbadger not found at $PGBADGER"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) not found"
PREFIX="${PGBADGER_PREFIX:-%m [%p] %q%u@%d }"

mkdir -p "$(dirname "$OUTJ")"
# private dir for pgbadger's pid file and -j chunk files, so concurrent
# pgbadger runs (ours or anyone else's) never collide on /tmp/pgbadger.pid
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pgbadger-json.XXXXXX")"
RAW="$WORK/time.txt"
ERR="$WORK/stderr.txt"
PID=""
cleanup() {
  local rc=$?
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM -- "-$PID" 2>/dev/null || true   # our own process group only
  fi
  rm -rf "$WORK" "$OUTJ.partial"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CMD=("$PGBADGER" -j "$JOBS" -p "$PREFIX" -f stderr -x json -o "$OUTJ.partial" --quiet
     --pid-dir "$WORK" --tempdir "$WORK" "$LOG")

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# Own process group so the sampler can sum RSS over pgbadger's workers.
set -m
/usr/bin/time -v -o "$RAW" "${CMD[@]}" 2>"$ERR" &
PID=$!
set +m
peak=0
while kill -0 "$PID" 2>/dev/null; do
  cur=$(ps -e -o pgid=,rss= 2>/dev/null | awk -v g="$PID" '$1 == g {s += $2} END {print s + 0}' || echo 0)
  # the group also contains /usr/bin/time itself (~2 MB); keep it, it is noise
  [ "$cur" -gt "$peak" ] && peak=$cur
  sleep 0.25
done
rc=0; wait "$PID" || rc=$?
PID=""
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$rc" -ne 0 ]; then
  cat "$ERR" >&2
  die "pgbadger exited with status $rc"
fi
[ -s "$OUTJ.partial" ] || die "pgbadger produced no output"
mv -f "$OUTJ.partial" "$OUTJ"

wall_raw=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$RAW")
wall_s=$(awk -v t="$wall_raw" 'BEGIN{n=split(t,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}')
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$RAW")
bytes=$(stat -c %s "$LOG")
lines=$(wc -l <"$LOG")
{
  echo "# written by bench/pgbadger-json.sh"
  echo "log: $(readlink -f "$LOG")"
  echo "log_bytes: $bytes"
  echo "log_lines: $lines"
  echo "jobs: $JOBS"
  echo "wall_s: $wall_s"
  echo "max_rss_kb: $rss_kb"
  echo "tree_peak_rss_kb: $peak"
  awk -v b="$bytes" -v s="$wall_s" 'BEGIN{ if (s > 0) printf "mb_per_s: %.2f\n", b/1048576/s }'
  awk -v l="$lines" -v s="$wall_s" 'BEGIN{ if (s > 0) printf "lines_per_s: %.0f\n", l/s }'
  echo "pgbadger_version: $("$PGBADGER" --version 2>/dev/null | head -1)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "loadavg_start: $LOAD_START"
  echo "loadavg_end: $LOAD_END"
  echo "cores: $(nproc)"
  printf 'command:'; printf ' %q' "$PGBADGER" -j "$JOBS" -p "$PREFIX" -f stderr -x json -o "$OUTJ" --quiet "$LOG"; echo
  echo "--- /usr/bin/time -v ---"
  cat "$RAW"
} >"$OUTJ.time"
if [ -s "$ERR" ]; then
  echo "pgbadger stderr:" >&2; sed 's/^/  /' "$ERR" >&2
fi
awk -v l="$LOG" -v j="$JOBS" -v s="$wall_s" -v r="$rss_kb" -v p="$peak" -v b="$bytes" \
  'BEGIN{printf "pgbadger -j %d %s: %.2f s, %.2f MB/s, max RSS %.1f MB (process-group peak %.1f MB)\n", j, l, s, (s>0?b/1048576/s:0), r/1024, p/1024}'
