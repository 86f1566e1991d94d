#!/usr/bin/env bash
# What a running target does per I/O while serving Ostia and while serving libiscsi (issue 14):
# counts, not times, so that they mean something on a loaded machine where CPU per I/O does not.
# Per run, over a window of the measured load, divided by the I/Os the target sent in it:
#   - the target's CPU (user, system) per I/O, from /proc (this one IS load-sensitive);
#   - the target's context switches and the wake-ups its threads made (perf: sched_switch,
#     sched_waking), i.e. how often it slept and whom it woke;
#   - its TCP segments out and in, data and pure ACKs, from `ss -ti` on its side of the
#     connection (segs_in - data_segs_in = the initiator's pure ACKs);
#   - the initiator's system calls (read, readv, recvfrom, writev, epoll_wait, poll) and its
#     context switches (perf on the initiator's pid).
# The I/Os are the target's bytes sent over 65584 (a 64 KiB Data-In and its header), so the
# script only serves the sequential 64 KiB read (seq 64 KiB read d32 by default).
#
# usage: bench/target-per-io.sh URL TARGET_PID
#   URL: a LUN of a target already running on this machine (`bin/ostia target`, or tgtd), e.g.
#   the one `bin/ostia target -a 127.0.0.1 -p 0 -z 512M` prints; TARGET_PID its process.
# env: BENCH_ROUNDS (default 2), BENCH_DEPTH (default 32), BENCH_WINDOW (seconds counted, 4),
#   OSTIA_JAVA_OPTS (Ostia run "ostia"), OSTIA_B_OPTS (if set, a second Ostia run "ostia-b"
#   with these JVM options instead, for an A/B on one build; e.g. -Dostia.tcp.batchShare=0).
# needs: root, perf (linux-perf), ss, iscsi-perf (libiscsi-bin), the packaged command line.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bench=target-per-io
# shellcheck source=lib/common.sh
source "$root/bench/lib/common.sh"
[ $# -eq 2 ] || die "usage: bench/target-per-io.sh URL TARGET_PID"
url=$1 tpid=$2
rounds="${BENCH_ROUNDS:-2}"
depth="${BENCH_DEPTH:-32}"
window="${BENCH_WINDOW:-4}"
[ "$(id -u)" -eq 0 ] || die "perf on another process needs root"
for tool in perf ss iscsi-perf timeout; do command -v "$tool" >/dev/null || die "$tool is missing"; done
require_cli
kill -0 "$tpid" 2>/dev/null || die "no target process $tpid"
tport=$(sed -n 's|^iscsi://[^/]*:\([0-9][0-9]*\)/.*|\1|p' <<<"$url")
[ -n "$tport" ] || die "the URL $url names no port (iscsi://host:port/iqn/lun)"
make_work
trap 'rm -rf "$work"' EXIT
log_machine

# The target's CPU ticks and, per connection on its port, its TCP counters.
snapshot() {
  awk '{print "cpu", $14, $15}' "/proc/$tpid/stat"
  ss -Htin state established "sport = :$tport" | awk '/^[0-9]/ { peer = $4; next }
    { printf "%s", peer
      for (i = 1; i <= NF; i++) if ($i ~ /^(bytes_sent|segs_out|segs_in|data_segs_out|data_segs_in):/) {
        split($i, kv, ":"); printf " %s=%s", kv[1], kv[2] }
      print "" }'
}

# args: label, the initiator's pid, its output file, a line that starts its load (or "").
measure() {
  local label=$1 ipid=$2 out=$3 line=$4 f="$work/$1"
  if [ -n "$line" ]; then
    for _ in $(seq 600); do grep -aq "$line" "$out" 2>/dev/null && break; sleep 0.1; done
  fi
  sleep 3
  snapshot >"$f.a"
  perf stat -x, -e sched:sched_waking,sched:sched_switch -p "$tpid" -o "$f.target" -- sleep "$window" 2>/dev/null &
  local p1=$!
  perf stat -x, -e 'syscalls:sys_enter_read,syscalls:sys_enter_readv,syscalls:sys_enter_recvfrom,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_poll,context-switches' \
    -p "$ipid" -o "$f.initiator" -- sleep "$window" 2>/dev/null &
  local p2=$!
  sleep "$window"
  snapshot >"$f.b"
  wait "$p1" "$p2" || die "perf stat failed for $label"
  kill -0 "$ipid" 2>/dev/null || die "$label ended before its window did (under load: raise its duration)"
  report "$label"
}

report() {
  local l=$1 f="$work/$1"
  awk -v l="$l" -v w="$window" -v clk="$clk" '
    FILENAME ~ /\.a$/ { if ($1 == "cpu") { u0 = $2; s0 = $3 } else for (i = 2; i <= NF; i++) { split($i, kv, "="); A[$1 " " kv[1]] = kv[2] }; next }
    FILENAME ~ /\.b$/ { if ($1 == "cpu") { u1 = $2; s1 = $3 } else for (i = 2; i <= NF; i++) { split($i, kv, "="); k = $1 " " kv[1]; D[kv[1]] += kv[2] - ((k in A) ? A[k] : 0) }; next }
    FILENAME ~ /\.target$/ && $3 ~ /sched_/ { sub("sched:sched_", "", $3); T[$3] = $1; next }
    FILENAME ~ /\.initiator$/ && $3 ~ /sys_enter|context/ && $1 + 0 > 0 { sub("syscalls:sys_enter_", "", $3); NM[++n] = $3; IV[n] = $1 }
    END {
      io = D["bytes_sent"] / 65584
      if (io < 1) { printf "%s: the target sent nothing in the window\n", l; exit 1 }
      printf "%-8s %6.0f IOPS | target us/IO user %.1f sys %.1f | target switches %.3f wakings %.3f /IO | target segs out %.2f in %.2f (data %.2f, pure ACKs %.2f) /IO\n",
        l, io / w, (u1 - u0) / clk * 1e6 / io, (s1 - s0) / clk * 1e6 / io, T["switch"] / io, T["waking"] / io,
        D["segs_out"] / io, D["segs_in"] / io, D["data_segs_in"] / io, (D["segs_in"] - D["data_segs_in"]) / io
      printf "         initiator per IO:"
      for (i = 1; i <= n; i++) printf " %s %.2f", NM[i], IV[i] / io
      print ""
    }' FS=' ' "$f.a" "$f.b" FS=',' "$f.target" "$f.initiator"
}

run_libiscsi() {
  local out="$work/libiscsi.out"
  timeout -s INT "$((window + 7))" iscsi-perf -b 128 -m "$depth" "$url" >"$out" 2>&1 &
  local t=$!
  sleep 1
  measure "libiscsi" "$(pgrep -n -P "$t")" "$out" ""
  wait "$t" || true
}
run_ostia() {  # args: label, JVM options
  local out="$work/$1.out"
  OSTIA_JAVA_OPTS="$2" "$root/bin/ostia" perf -b 128 -m "$depth" --warmup 2 -d "$((window + 5))" "$url" >"$out" 2>&1 &
  local p=$!
  measure "$1" "$p" "$out" '^performing '
  wait "$p" || die "ostia perf failed: $(tail -3 "$out")"
}

for r in $(seq "$rounds"); do
  log "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  # Odd rounds: libiscsi, ostia, ostia-b; even rounds the other way round.
  if [ $((r % 2)) -eq 1 ]; then
    run_libiscsi
    run_ostia ostia "${OSTIA_JAVA_OPTS:-}"
    [ -z "${OSTIA_B_OPTS:-}" ] || run_ostia ostia-b "$OSTIA_B_OPTS"
  else
    [ -z "${OSTIA_B_OPTS:-}" ] || run_ostia ostia-b "$OSTIA_B_OPTS"
    run_ostia ostia "${OSTIA_JAVA_OPTS:-}"
    run_libiscsi
  fi
done
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
