#!/usr/bin/env bash
# Ostia's `perf` over iSER and over TCP in the same run, against the embedded target in the same
# JVM (`perf --embedded`): iSER on the in-JVM loopback fabric when this machine has no RDMA
# device (on the native provider when it has one), TCP on 127.0.0.1.
#
# For each round it runs both, alternating which goes first, and prints each run's IOPS and
# heap bytes allocated per I/O (ThreadMXBean, by thread group: the initiator's ostia-iser-cq /
# ostia-tcp-rx threads and the target's), then the medians and the ratio iser/tcp.
#
# Builds nothing: run `./mvnw -B -DskipTests package` first. Needs only JDK 25.
#   BENCH_SECONDS (default 10)  BENCH_ROUNDS (default 3)  BENCH_WARMUP (default 2)
#   BENCH_DEPTH (default 32)    BENCH_BLOCKS (default 8, of 512 bytes)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
seconds="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-3}"
warmup="${BENCH_WARMUP:-2}"
depth="${BENCH_DEPTH:-32}"
blocks="${BENCH_BLOCKS:-8}"

die() { echo "iser-vs-tcp: $*" >&2; exit 1; }
compgen -G "$root/cli/target/ostia-cli-*.jar" >/dev/null && compgen -G "$root/cli/target/modules/ostia-transport-iser.jar" >/dev/null \
  || die "the command line is not built with the iSER transport: run (cd '$root' && ./mvnw -B -DskipTests package) first"

work=$(mktemp -d "${TMPDIR:-/tmp}/ostia-iser-vs-tcp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run <transport> <round>: one perf run; prints "<iops> <bytes per I/O>"
run() {
  local out="$work/$1.$2.txt"
  timeout $((seconds + warmup + 60)) "$root/bin/ostia" perf --embedded 256M -m "$depth" -b "$blocks" -r \
    -d "$seconds" --warmup "$warmup" --transport "$1" >"$out" 2>&1 || { cat "$out" >&2; die "perf over $1 failed"; }
  local iops alloc
  iops=$(sed -n 's/^result: \([0-9]*\) IOPS.*/\1/p' "$out")
  alloc=$(sed -n 's/^allocated: \([0-9]*\) B per I\/O.*/\1/p' "$out")
  [ -n "$iops" ] || { cat "$out" >&2; die "no result line from perf over $1"; }
  echo "# $1 round $2: $iops IOPS; $(grep '^allocated:' "$out" || echo 'allocation not measured')" >&2
  grep -q "loopback fabric" "$out" && echo "# $1 ran on the loopback fabric" >&2
  echo "$iops ${alloc:-0}"
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }

echo "# random read, $depth in flight, $((blocks * 512)) bytes per I/O, ${seconds} s per run after ${warmup} s warm-up, $rounds rounds"
: >"$work/iser"; : >"$work/tcp"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="iser tcp"; else order="tcp iser"; fi
  for t in $order; do
    run "$t" "$r" >>"$work/$t"
  done
done
iser_iops=$(cut -d' ' -f1 "$work/iser" | median); tcp_iops=$(cut -d' ' -f1 "$work/tcp" | median)
iser_alloc=$(cut -d' ' -f2 "$work/iser" | median); tcp_alloc=$(cut -d' ' -f2 "$work/tcp" | median)
printf '%-6s %10s %16s\n' transport IOPS "B/I/O (JVM)"
printf '%-6s %10d %16d\n' iser "$iser_iops" "$iser_alloc" tcp "$tcp_iops" "$tcp_alloc"
awk -v a="$iser_iops" -v b="$tcp_iops" 'BEGIN { printf "ratio iser/tcp (median IOPS): %.2f\n", (b > 0 ? a / b : 0) }'
