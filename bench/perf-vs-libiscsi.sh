#!/usr/bin/env bash
# Ostia's `perf` against libiscsi's `iscsi-perf`, on the same tgtd, alternating.
#
# Starts its own tgtd on loopback (a free port, its own control port, a 1 GiB sparse LUN on
# tmpfs so the disk is not what is measured), then for each case runs both tools for
# BENCH_SECONDS, BENCH_ROUNDS times, alternating which goes first, and prints both IOPS,
# MiB/s and the ratio ostia/libiscsi (of the medians), and each tool's CPU time per I/O.
# Stops tgtd cleanly at the end.
#
# Builds nothing: run `./mvnw -B -DskipTests package` first. Needs root (tgtd), the Debian
# packages tgt and libiscsi-bin, and JDK 25.
# Both tools get the same warm-up: the first BENCH_WARMUP seconds of each run are left out of its
# figure (the JVM compiles its I/O path then; iscsi-perf's first seconds include its login).
#   BENCH_SECONDS (default 10)   BENCH_ROUNDS (default 3)   BENCH_WARMUP (default 2)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
seconds="${BENCH_SECONDS:-10}"
rounds="${BENCH_ROUNDS:-3}"
warmup="${BENCH_WARMUP:-2}"
[ "$seconds" -ge 3 ] || { echo "perf-vs-libiscsi: BENCH_SECONDS must be at least 3 (CPU is sampled from 1 s in to 1 s before the end)" >&2; exit 1; }
target_iqn="iqn.2026-11.io.ostia.bench:perf"

die() { echo "perf-vs-libiscsi: $*" >&2; exit 1; }
log() { echo "# $*"; }

# --- what must be there ---
[ "$(id -u)" -eq 0 ] || die "tgtd needs root; run this as root"
for tool in tgtd tgtadm iscsi-perf timeout ss; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian packages: tgt for tgtd/tgtadm, libiscsi-bin for iscsi-perf)"
done
compgen -G "$root/cli/target/ostia-cli-*.jar" >/dev/null && compgen -G "$root/cli/target/modules/*.jar" >/dev/null \
  || die "the command line is not built: run (cd '$root' && ./mvnw -B -DskipTests package) first"

# --- tgtd ---
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return; }
  done
  die "no free TCP port found"
}
port=$(free_port)
control=""
for _ in $(seq 100); do
  c=$((1000 + RANDOM % 29000))
  [ -e "/var/run/tgtd/socket.$c" ] || { control=$c; break; }
done
[ -n "$control" ] || die "no free tgtd control port in /var/run/tgtd"
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
work=$(mktemp -d "$base/ostia-bench.XXXXXX")
tgtd_pid=""

tgtadm_() { tgtadm -C "$control" --lld iscsi "$@"; }
cleanup() {
  set +e
  if [ -n "$tgtd_pid" ] && kill -0 "$tgtd_pid" 2>/dev/null; then
    tgtadm_ --mode target --op delete --force --tid 1 >/dev/null 2>&1
    tgtadm_ --op delete --mode system >/dev/null 2>&1
    for _ in $(seq 150); do kill -0 "$tgtd_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$tgtd_pid" 2>/dev/null; then
      echo "perf-vs-libiscsi: tgtd did not stop after the system delete; killing it" >&2
      kill -9 "$tgtd_pid"
    fi
    wait "$tgtd_pid" 2>/dev/null
    log "tgtd stopped (exit status $?)"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tgtd -f -C "$control" --iscsi "portal=127.0.0.1:$port" >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
for _ in $(seq 150); do
  tgtadm_ --mode system --op show >/dev/null 2>&1 && break
  kill -0 "$tgtd_pid" 2>/dev/null || die "tgtd exited at start: $(cat "$work/tgtd.log")"
  sleep 0.1
done
tgtadm_ --mode system --op show >/dev/null || die "tgtd did not come up on control port $control"
truncate -s 1G "$work/lun1.img"
tgtadm_ --mode target --op new --tid 1 --targetname "$target_iqn"
tgtadm_ --mode target --op bind --tid 1 -I ALL
tgtadm_ --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$work/lun1.img"
url="iscsi://127.0.0.1:$port/$target_iqn/1"

log "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "tgtd $port (control $control), LUN 1: 1 GiB sparse file on $(df --output=fstype "$work" | tail -1), $url"
log "$rounds rounds of $seconds s per tool and case after $warmup s of warm-up, alternating which tool runs first"

# --- runs ---
# Besides IOPS, each run reports CPU per I/O of the tool and of tgtd, sampled from /proc over
# the middle of the measured period (from 1 s after the warm-up to 1 s before the end): with
# tgtd the bottleneck on a small machine, what the initiator leaves to the target counts.
clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sample_cpu() {  # args: pid or "child-of:PID"; prints "tool_ticks tgtd_ticks window_s"
  local who=$1 pid a b c d window=$((seconds - 2))
  sleep "$((warmup + 1))"
  pid=$who
  [[ $who == child-of:* ]] && pid=$(pgrep -n -P "${who#child-of:}")
  a=$(cpu_ticks "$pid"); c=$(cpu_ticks "$tgtd_pid")
  sleep "$window"
  b=$(cpu_ticks "$pid"); d=$(cpu_ticks "$tgtd_pid")
  echo "$((b - a)) $((d - c)) $window"
}
per_io() {  # args: ticks iops window_s; prints microseconds of CPU per I/O
  awk -v t="$1" -v i="$2" -v w="$3" -v clk="$clk" 'BEGIN { printf "%.1f", (i > 0 && w > 0) ? t / clk * 1e6 / (i * w) : 0 }'
}
ostia_run() {  # args: perf options; prints "IOPS tool_us_per_io tgtd_us_per_io"
  local out="$work/ostia.out" pid cpu iops
  "$root/bin/ostia" perf "$@" --warmup "$warmup" -d "$seconds" "$url" >"$out" 2>&1 &
  pid=$!
  cpu=$(sample_cpu "$pid")
  wait "$pid" || { echo "ostia perf $* failed:" >&2; cat "$out" >&2; return 1; }
  iops=$(tr '\r' '\n' <"$out" | sed -n 's/^result: \([0-9][0-9]*\) IOPS.*/\1/p' | tail -1)
  read -r tool target window <<<"$cpu"
  echo "$iops $(per_io "$tool" "$iops" "$window") $(per_io "$target" "$iops" "$window")"
}
libiscsi_run() {  # args: perf options; IOPS is the mean of iscsi-perf's per-second "iops current" after the warm-up
  local out="$work/libiscsi.out" pid cpu iops
  timeout -s INT "$((seconds + warmup))" iscsi-perf "$@" "$url" >"$out" 2>&1 &
  pid=$!
  cpu=$(sample_cpu "child-of:$pid")
  wait "$pid" || true
  iops=$(tr '\r' '\n' <"$out" | sed -n 's/.*iops current \([0-9][0-9]*\).*/\1/p' \
    | awk -v skip="$warmup" 'NR > skip { sum += $1; n++ } END { if (n) printf "%d\n", sum / n }')
  read -r tool target window <<<"$cpu"
  echo "$iops $(per_io "$tool" "$iops" "$window") $(per_io "$target" "$iops" "$window")"
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

names=("sequential 64 KiB, depth 32" "random 4 KiB, depth 32" "random 4 KiB, depth 1")
options=("-b 128 -m 32" "-b 8 -m 32 -r" "-b 8 -m 1 -r")
blocks=(128 8 8)
summary=()
for i in "${!names[@]}"; do
  read -r -a opts <<<"${options[$i]}"
  ours=() theirs=() our_cpu=() their_cpu=() tgtd_ours=() tgtd_theirs=()
  for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then
      o=$(ostia_run "${opts[@]}"); l=$(libiscsi_run "${opts[@]}")
    else
      l=$(libiscsi_run "${opts[@]}"); o=$(ostia_run "${opts[@]}")
    fi
    read -r o_iops o_cpu o_tgtd <<<"$o"
    read -r l_iops l_cpu l_tgtd <<<"$l"
    [ -n "$o_iops" ] || die "no result line from ostia perf ${options[$i]}"
    [ -n "$l_iops" ] || die "no per-second figures from iscsi-perf ${options[$i]}"
    ours+=("$o_iops"); theirs+=("$l_iops"); our_cpu+=("$o_cpu"); their_cpu+=("$l_cpu")
    tgtd_ours+=("$o_tgtd"); tgtd_theirs+=("$l_tgtd")
    log "${names[$i]} (${options[$i]}), round $r: ostia $o_iops IOPS ($o_cpu us CPU/IO, tgtd $o_tgtd), libiscsi $l_iops IOPS ($l_cpu us CPU/IO, tgtd $l_tgtd)"
  done
  summary+=("$i $(echo "${ours[*]}" | median) $(echo "${theirs[*]}" | median) $(echo "${our_cpu[*]}" | median) $(echo "${their_cpu[*]}" | median)")
done

echo
printf '%-30s %-16s %11s %9s %11s %9s %7s %14s\n' "case" "options" "ostia IOPS" "MiB/s" "libiscsi" "MiB/s" "ratio" "CPU us/IO o/l"
for line in "${summary[@]}"; do
  read -r i o l oc lc <<<"$line"
  awk -v name="${names[$i]}" -v opts="${options[$i]}" -v o="$o" -v l="$l" -v b="${blocks[$i]}" -v oc="$oc" -v lc="$lc" 'BEGIN {
    printf "%-30s %-16s %11d %9.1f %11d %9.1f %7.2f %14s\n", name, opts, o, o*b*512/1048576, l, l*b*512/1048576, (l > 0 ? o/l : 0), oc " / " lc }'
done
echo "(medians of $rounds rounds of $seconds s after $warmup s of warm-up; iscsi-perf's \"MB/s\" is MiB/s; ratio = ostia / libiscsi;"
echo " CPU us/IO: each tool's own CPU time per I/O, ostia / libiscsi, over the middle of each run)"
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
