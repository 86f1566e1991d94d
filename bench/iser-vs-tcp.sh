#!/usr/bin/env bash
# Ostia's `perf` over iSER and over TCP in the same run, against the embedded target in the same
# JVM (`perf --embedded`): iSER on the in-JVM loopback fabric when this machine has no RDMA
# device (on the native provider when it has one), TCP on 127.0.0.1.
#
# For each round it runs both, alternating which goes first, and prints each run's IOPS, the
# JVM's CPU time per I/O (initiator and target together: they share the process; sampled from
# /proc over the middle of the measured period) and the heap bytes allocated per I/O
# (ThreadMXBean, by thread group: the initiator's ostia-iser-cq / ostia-tcp-rx threads and the
# target's), then the medians and the ratio iser/tcp.
#
# Builds nothing: run `./mvnw -B -DskipTests package` first. Needs only JDK 25.
#   BENCH_SECONDS (default 10, at least 3)  BENCH_ROUNDS (default 3)
#   BENCH_WARMUP (default 4: on two shared cores the JIT is still compiling the I/O path after 2 s,
#   and its CPU would count per I/O)
#   BENCH_DEPTH (default 32)    BENCH_BLOCKS (default 8, of 512 bytes)   BENCH_WRITE (1: writes)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bench=iser-vs-tcp
# shellcheck source=lib/common.sh
source "$root/bench/lib/common.sh"
seconds="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-3}"
warmup="${BENCH_WARMUP:-4}"
depth="${BENCH_DEPTH:-32}"
blocks="${BENCH_BLOCKS:-8}"
[ "$seconds" -ge 3 ] || die "BENCH_SECONDS must be at least 3 (CPU is sampled from 1 s in to 1 s before the end)"
write=()
[ "${BENCH_WRITE:-0}" = 1 ] && write=(-w)

require_cli ostia-transport-iser.jar
make_work
trap 'rm -rf "$work"' EXIT

# run <transport> <round>: one perf run; prints "<iops> <CPU us per I/O> <bytes per I/O>"
run() {
  local out="$work/$1.$2.txt" pid cpu iops alloc ticks
  timeout $((seconds + warmup + 60)) "$root/bin/ostia" perf --embedded 256M -m "$depth" -b "$blocks" -r "${write[@]}" \
    -d "$seconds" --warmup "$warmup" --transport "$1" >"$out" 2>&1 &
  pid=$!
  cpu=$(sample_cpu "child-of:$pid" none)
  wait "$pid" || { cat "$out" >&2; die "perf over $1 failed"; }
  iops=$(perf_iops "$out")
  alloc=$(perf_alloc "$out")
  [ -n "$iops" ] || { cat "$out" >&2; die "no result line from perf over $1"; }
  read -r ticks _ window <<<"$cpu"
  local us
  us=$(per_io "$ticks" "$iops" "$window")
  log "$1 round $2: $iops IOPS, $us us CPU/IO; $(tr '\r' '\n' <"$out" | grep '^allocated:' || echo 'allocation not measured')" >&2
  grep -q "loopback fabric" "$out" && log "$1 ran on the loopback fabric" >&2
  echo "$iops $us ${alloc:-0}"
}

log_machine
log "random $([ ${#write[@]} -gt 0 ] && echo write || echo read), $depth in flight, $((blocks * 512)) bytes per I/O, ${seconds} s per run after ${warmup} s warm-up, $rounds rounds"
: >"$work/iser"; : >"$work/tcp"
run_iser() { run iser "$1"; }
run_tcp() { run tcp "$1"; }
for r in $(seq "$rounds"); do
  alternate "$r" run_iser run_tcp
  echo "$ran_a" >>"$work/iser"; echo "$ran_b" >>"$work/tcp"
done
log_machine
printf '%-9s %10s %12s %16s\n' transport IOPS "CPU us/IO" "B/I/O (JVM)"
for t in iser tcp; do
  printf '%-9s %10.0f %12s %16.0f\n' "$t" "$(cut -d' ' -f1 "$work/$t" | median)" "$(cut -d' ' -f2 "$work/$t" | median)" \
    "$(cut -d' ' -f3 "$work/$t" | median)"
done
awk -v a="$(cut -d' ' -f1 "$work/iser" | median)" -v b="$(cut -d' ' -f1 "$work/tcp" | median)" \
  'BEGIN { printf "ratio iser/tcp (median IOPS): %.2f\n", (b > 0 ? a / b : 0) }'
