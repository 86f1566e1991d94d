#!/usr/bin/env bash
# Ostia's `perf` against libiscsi on the same targets, interleaved in one run: tgtd, and Ostia's
# own embedded target (about three times faster than tgtd on two cores, so against it the
# initiators' own costs show rather than how much CPU each leaves tgtd).
#
# Cases: sequential 64 KiB and random 4 KiB reads, sequential 64 KiB and random 4 KiB writes,
# and a random 4 KiB 70/30 read/write mix, each at depth 32 and at depth 1. The libiscsi side of
# the reads is `iscsi-perf`; iscsi-perf only reads, so the write and mixed cases use
# bench/iscsi-rw-perf.c, iscsi-perf's loop with WRITE(16), compiled here against libiscsi.
#
# Starts its own tgtd (free port, own control port, a sparse LUN file on tmpfs) and Ostia's
# target (`bin/ostia target`, a RAM LUN of the same size), both on loopback. For each target and
# case it runs both tools BENCH_ROUNDS times, alternating which goes first, and prints the
# medians of IOPS and MiB/s, the ratio ostia/libiscsi, each tool's CPU time per I/O and the
# target's, and whether the case meets issue 14's goals (ratio >= 1.2 against Ostia's target,
# >= 1.0 against tgtd, Ostia's CPU per I/O below libiscsi's). Stops both targets at the end.
#
# Builds nothing Java: run `./mvnw -B -DskipTests package` first. Needs root (tgtd), the Debian
# packages tgt, libiscsi-bin, libiscsi-dev and gcc, and JDK 25.
# Both tools get the same warm-up: the first BENCH_WARMUP seconds of each run are left out of its
# figure (the JVM compiles its I/O path then; libiscsi's first seconds include its login).
#   BENCH_SECONDS (default 8)   BENCH_ROUNDS (default 2)   BENCH_WARMUP (default 4: on two shared cores
#   the JIT is still compiling the I/O path after 2 s, and its CPU would count per I/O)
#   BENCH_TARGETS (default "ostia tgtd")   BENCH_CASES (extended regex on case names, default all)
#   BENCH_LUN_MIB (default 512)   OSTIA_JAVA_OPTS (extra JVM options of the Ostia initiator)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bench=perf-vs-libiscsi
# shellcheck source=lib/common.sh
source "$root/bench/lib/common.sh"
seconds="${BENCH_SECONDS:-8}"
rounds="${BENCH_ROUNDS:-2}"
warmup="${BENCH_WARMUP:-4}"
targets="${BENCH_TARGETS:-ostia tgtd}"
case_filter="${BENCH_CASES:-.}"
lun_mib="${BENCH_LUN_MIB:-512}"
[ "$seconds" -ge 3 ] || { echo "perf-vs-libiscsi: BENCH_SECONDS must be at least 3 (CPU is sampled from 1 s in to 1 s before the end)" >&2; exit 1; }
target_iqn="iqn.2026-11.io.ostia.bench:perf"

# --- what must be there ---
[ "$(id -u)" -eq 0 ] || die "tgtd needs root; run this as root"
for tool in tgtd tgtadm iscsi-perf gcc timeout ss; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian packages: tgt for tgtd/tgtadm, libiscsi-bin for iscsi-perf, gcc)"
done
[ -f /usr/include/iscsi/iscsi.h ] || die "libiscsi's headers are missing (Debian package libiscsi-dev)"
require_cli
for t in $targets; do
  [[ $t == ostia || $t == tgtd ]] || die "BENCH_TARGETS names ostia and tgtd, not $t"
done

make_work
tgtd_pid=""
ostia_target_pid=""

# --- libiscsi's write-capable client ---
gcc -O2 -Wall -o "$work/iscsi-rw-perf" "$root/bench/iscsi-rw-perf.c" -liscsi 2>"$work/gcc.log" \
  || die "cannot compile bench/iscsi-rw-perf.c: $(cat "$work/gcc.log")"

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return; }
  done
  die "no free TCP port found"
}
control=""
for _ in $(seq 100); do
  c=$((1000 + RANDOM % 29000))
  [ -e "/var/run/tgtd/socket.$c" ] || { control=$c; break; }
done
[ -n "$control" ] || die "no free tgtd control port in /var/run/tgtd"

tgtadm_() { tgtadm -C "$control" --lld iscsi "$@"; }
cleanup() {
  set +e
  if [ -n "$ostia_target_pid" ] && kill -0 "$ostia_target_pid" 2>/dev/null; then
    kill -TERM "$ostia_target_pid"
    for _ in $(seq 100); do kill -0 "$ostia_target_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$ostia_target_pid" 2>/dev/null; then
      echo "perf-vs-libiscsi: Ostia's target did not stop within 10 s of SIGTERM; killing it" >&2
      kill -9 "$ostia_target_pid"
    fi
    wait "$ostia_target_pid" 2>/dev/null
    log "Ostia's target stopped (exit status $?)"
  fi
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

declare -A url target_pid
log_machine

# --- tgtd ---
if [[ " $targets " == *" tgtd "* ]]; then
  port=$(free_port)
  tgtd -f -C "$control" --iscsi "portal=127.0.0.1:$port" >"$work/tgtd.log" 2>&1 &
  tgtd_pid=$!
  for _ in $(seq 150); do
    tgtadm_ --mode system --op show >/dev/null 2>&1 && break
    kill -0 "$tgtd_pid" 2>/dev/null || die "tgtd exited at start: $(cat "$work/tgtd.log")"
    sleep 0.1
  done
  tgtadm_ --mode system --op show >/dev/null || die "tgtd did not come up on control port $control"
  truncate -s "${lun_mib}M" "$work/lun1.img"
  tgtadm_ --mode target --op new --tid 1 --targetname "$target_iqn"
  tgtadm_ --mode target --op bind --tid 1 -I ALL
  tgtadm_ --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$work/lun1.img"
  url[tgtd]="iscsi://127.0.0.1:$port/$target_iqn/1"
  target_pid[tgtd]=$tgtd_pid
  log "tgtd (control port $control): LUN 1 a $lun_mib MiB sparse file on $(df --output=fstype "$work" | tail -1), ${url[tgtd]}"
fi

# --- Ostia's target ---
if [[ " $targets " == *" ostia "* ]]; then
  OSTIA_JAVA_OPTS="-XX:MaxDirectMemorySize=$((lun_mib + 256))m" "$root/bin/ostia" target -a 127.0.0.1 -p 0 \
    -n "$target_iqn" -z "${lun_mib}M" >"$work/ostia-target.log" 2>&1 &
  ostia_target_pid=$!
  for _ in $(seq 300); do
    grep -q '^serving .*Ctrl-C stops' "$work/ostia-target.log" && break
    kill -0 "$ostia_target_pid" 2>/dev/null || die "Ostia's target exited at start: $(cat "$work/ostia-target.log")"
    sleep 0.1
  done
  url[ostia]=$(sed -n 's/^serving \(iscsi:[^ ]*\) .*/\1/p' "$work/ostia-target.log")
  [ -n "${url[ostia]}" ] || die "Ostia's target did not come up: $(cat "$work/ostia-target.log")"
  target_pid[ostia]=$ostia_target_pid
  log "Ostia's target (bin/ostia target): LUN 0 $lun_mib MiB of RAM, ${url[ostia]}"
fi
log "$rounds rounds of $seconds s per tool, target and case after $warmup s of warm-up, alternating which tool runs first"

# --- runs ---
# Besides IOPS, each run reports CPU per I/O of the tool and of the target, sampled from /proc
# over the middle of the measured period (from 1 s after the warm-up to 1 s before the end);
# Ostia's own figure is the one `ostia perf` prints, its process CPU time over its measured seconds.
ostia_run() {  # args: target, perf options; prints "IOPS tool_us_per_io target_us_per_io"
  local t=$1 out="$work/ostia.out" pid cpu iops alloc self
  shift
  "$root/bin/ostia" perf "$@" --warmup "$warmup" -d "$seconds" "${url[$t]}" >"$out" 2>&1 &
  pid=$!
  cpu=$(threads_file="$work/ostia.threads" sample_cpu "$pid" "${target_pid[$t]}" "$out" '^performing ')
  wait "$pid" || { echo "ostia perf $* failed:" >&2; cat "$out" >&2; return 1; }
  iops=$(perf_iops "$out")
  alloc=$(perf_alloc "$out")
  self=$(perf_cpu "$out")
  read -r tool target window <<<"$cpu"
  # Its own CPU per I/O is the process's CPU time over exactly its measured seconds (all JVM
  # threads, the JIT's and the GC's too), which perf prints; the sample only serves the target's.
  [ -n "$self" ] || self=$(per_io "$tool" "$iops" "$window")
  # Which of its threads spent that CPU (the JIT's and the GC's still working after the warm-up
  # would show here): to the log, on standard error, so the result line stays one line.
  echo "# ostia perf $*: its CPU by thread over the sample: $(thread_split "$work/ostia.threads.a" "$work/ostia.threads.b")" >&2
  echo "$iops $self $(per_io "$target" "$iops" "$window") ${alloc:-?}"
}
libiscsi_run() {  # args: target, tool, options; IOPS is the mean of the per-second "iops current" after the warm-up
  local t=$1 tool=$2 out="$work/libiscsi.out" pid cpu iops
  shift 2
  # 2 s past the CPU sample's end: under load a sleep overruns, and an ended tool reads as 0 ticks.
  timeout -s INT "$((seconds + warmup + 2))" "$tool" "$@" "${url[$t]}" >"$out" 2>&1 &
  pid=$!
  cpu=$(sample_cpu "child-of:$pid" "${target_pid[$t]}")
  wait "$pid" || true
  iops=$(tr '\r' '\n' <"$out" | sed -n 's/.*iops current \([0-9][0-9]*\).*/\1/p' \
    | awk -v skip="$warmup" 'NR > skip { sum += $1; n++ } END { if (n) printf "%d\n", sum / n }')
  [ -n "$iops" ] || { echo "$tool $* gave no per-second figures:" >&2; tr '\r' '\n' <"$out" | tail -5 >&2; }
  read -r ttool target window <<<"$cpu"
  echo "$iops $(per_io "$ttool" "${iops:-0}" "$window") $(per_io "$target" "${iops:-0}" "$window")"
}

# One case's run of each tool against target $t (for `alternate`; the round is not needed).
ostia_case() { ostia_run "$t" "${oargs[@]}"; }
libiscsi_case() { libiscsi_run "$t" "$tool" "${largs[@]}"; }

# name | ostia perf options | libiscsi tool | its options | blocks of 512 bytes
rw="$work/iscsi-rw-perf"
cases=()
for depth in 32 1; do
  cases+=("seq 64 KiB read d$depth|-b 128 -m $depth|iscsi-perf|-b 128 -m $depth|128"
          "rand 4 KiB read d$depth|-b 8 -m $depth -r|iscsi-perf|-b 8 -m $depth -r|8"
          "seq 64 KiB write d$depth|-b 128 -m $depth -w|$rw|-b 128 -m $depth -w 100|128"
          "rand 4 KiB write d$depth|-b 8 -m $depth -r -w|$rw|-b 8 -m $depth -r -w 100|8"
          "rand 4 KiB 70/30 mix d$depth|-b 8 -m $depth -r --write-percent 30|$rw|-b 8 -m $depth -r -w 30|8")
done

summary=()
for t in $targets; do
  for c in "${cases[@]}"; do
    IFS='|' read -r name oopts tool lopts blocks <<<"$c"
    [[ $name =~ $case_filter ]] || continue
    read -r -a oargs <<<"$oopts"
    read -r -a largs <<<"$lopts"
    ours=() theirs=() our_cpu=() their_cpu=() target_ours=() target_theirs=()
    for r in $(seq "$rounds"); do
      alternate "$r" ostia_case libiscsi_case
      read -r o_iops o_cpu o_target o_alloc <<<"$ran_a"
      read -r l_iops l_cpu l_target <<<"$ran_b"
      [ -n "$o_iops" ] || die "no result line from ostia perf $oopts against $t"
      [ "${l_iops:-0}" -gt 0 ] || die "no per-second figures from $(basename "$tool") $lopts against $t"
      ours+=("$o_iops"); theirs+=("$l_iops"); our_cpu+=("$o_cpu"); their_cpu+=("$l_cpu")
      target_ours+=("$o_target"); target_theirs+=("$l_target")
      log "$t, $name, round $r: ostia $o_iops IOPS ($o_cpu us CPU/IO, target $o_target, $o_alloc B heap/IO), libiscsi $l_iops IOPS ($l_cpu us CPU/IO, target $l_target)"
    done
    summary+=("$t|$name|$blocks|$(echo "${ours[*]}" | median)|$(echo "${theirs[*]}" | median)|$(echo "${our_cpu[*]}" | median)|$(echo "${their_cpu[*]}" | median)|$(echo "${target_ours[*]}" | median)|$(echo "${target_theirs[*]}" | median)")
  done
done

echo
printf '%-6s %-26s %10s %8s %10s %8s %6s %13s %13s %s\n' "target" "case" "ostia IOPS" "MiB/s" "libiscsi" "MiB/s" "ratio" "CPU us/IO o/l" "target us o/l" "goal"
failed=0
for line in "${summary[@]}"; do
  IFS='|' read -r t name b o l oc lc to tl <<<"$line"
  goal=$([ "$t" = ostia ] && echo 1.2 || echo 1.0)
  verdict=$(awk -v o="$o" -v l="$l" -v oc="$oc" -v lc="$lc" -v g="$goal" 'BEGIN {
    r = l > 0 ? o / l : 0; v = "";
    if (r < g) v = v "ratio<" g " ";
    if (oc + 0 >= lc + 0) v = v "cpu>=libiscsi ";
    print (v == "" ? "met" : "MISSED: " v) }')
  [[ $verdict == met ]] || failed=$((failed + 1))
  awk -v t="$t" -v name="$name" -v o="$o" -v l="$l" -v b="$b" -v oc="$oc" -v lc="$lc" -v to="$to" -v tl="$tl" -v v="$verdict" 'BEGIN {
    printf "%-6s %-26s %10d %8.1f %10d %8.1f %6.2f %13s %13s %s\n", t, name, o, o*b*512/1048576, l, l*b*512/1048576,
      (l > 0 ? o/l : 0), oc "/" lc, to "/" tl, v }'
done
echo "(medians of $rounds rounds of $seconds s after $warmup s of warm-up; MiB/s from IOPS; ratio = ostia / libiscsi;"
echo " CPU us/IO: each tool's own CPU time per I/O, ostia / libiscsi; target us o/l: the target's CPU per I/O while"
echo " serving each; goal: ratio >= 1.2 against ostia's target, >= 1.0 against tgtd, and ostia's CPU below libiscsi's)"
log "$failed of ${#summary[@]} cases missed a goal; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
