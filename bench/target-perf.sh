#!/usr/bin/env bash
# iscsi-perf against Ostia's embedded target and against tgtd on this machine, alternating, for
# three cases: sequential 64 KiB reads at depth 32, random 4 KiB at depth 32, random 4 KiB at
# depth 1. Both serve a 256 MiB LUN from memory (Ostia: off-heap RAM; tgtd: a file in /dev/shm).
# Prints IOPS and MiB/s (iscsi-perf's "MB/s" is MiB/s) for both and the ratio Ostia/tgtd.
#
# usage: bench/target-perf.sh [seconds per run, default 8] [rounds, default 2]
# needs: JDK 25 (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64), tgt, libiscsi-bin, root for tgtd.
set -euo pipefail

SECONDS_PER_RUN=${1:-8}
ROUNDS=${2:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bench=target-perf
# shellcheck source=lib/common.sh
source "$ROOT/bench/lib/common.sh"
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
IQN=iqn.2026-01.io.ostia:bench
LUN_BYTES=$((256 << 20))

for tool in iscsi-perf tgtd tgtadm; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Debian packages libiscsi-bin, tgt)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "tgtd needs root" >&2; exit 2; }


WORK=$(mktemp -d /dev/shm/ostia-bench.XXXXXX)
OSTIA_PID=""
TGTD_PID=""
CONTROL=$((20000 + RANDOM % 10000))

cleanup() {
    set +e
    if [ -n "$OSTIA_PID" ]; then
        kill -TERM "$OSTIA_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$OSTIA_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$OSTIA_PID" 2>/dev/null
    fi
    if [ -n "$TGTD_PID" ]; then
        tgtadm -C "$CONTROL" --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
        tgtadm -C "$CONTROL" --op delete --mode system >/dev/null 2>&1
        for _ in $(seq 50); do kill -0 "$TGTD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$TGTD_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- Ostia's target
if ! ls "$ROOT"/embedded-target/target/ostia-target-*.jar >/dev/null 2>&1 || ! ls "$ROOT"/api/target/ostia-api-*.jar >/dev/null 2>&1; then
    (cd "$ROOT" && JAVA_HOME=$JAVA_HOME MAVEN_OPTS=--sun-misc-unsafe-memory-access=allow \
        ./mvnw -B -q -pl target -am package -DskipTests)
fi
CP=$(ls "$ROOT"/api/target/ostia-api-*.jar | grep -v sources | head -1):$(ls "$ROOT"/embedded-target/target/ostia-target-*.jar | grep -v sources | head -1)
OSTIA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" io.ostia.target.internal.Main \
    --portal "127.0.0.1:$OSTIA_PORT" --target "$IQN" --lun "$LUN_BYTES" > "$WORK/ostia.log" 2>&1 &
OSTIA_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/ostia.log" && break; sleep 0.1; done
grep -q "listening on" "$WORK/ostia.log" || { echo "Ostia's target did not start:" >&2; cat "$WORK/ostia.log" >&2; exit 1; }

# --- tgtd
TGTD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
truncate -s "$LUN_BYTES" "$WORK/tgtd-lun.img"
tgtd -f -C "$CONTROL" --iscsi "portal=127.0.0.1:$TGTD_PORT" > "$WORK/tgtd.log" 2>&1 &
TGTD_PID=$!
for _ in $(seq 100); do tgtadm -C "$CONTROL" --mode system --op show >/dev/null 2>&1 && break; sleep 0.1; done
tgtadm -C "$CONTROL" --lld iscsi --mode target --op new --tid 1 --targetname "$IQN"
tgtadm -C "$CONTROL" --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$WORK/tgtd-lun.img"
tgtadm -C "$CONTROL" --lld iscsi --mode target --op bind --tid 1 -I ALL

OSTIA_URL="iscsi://127.0.0.1:$OSTIA_PORT/$IQN/0"
TGTD_URL="iscsi://127.0.0.1:$TGTD_PORT/$IQN/1"

# perf <seconds> <url> <iscsi-perf args...> -> "iops mib_per_s" (iscsi-perf's last average)
perf() {
    local secs=$1 url=$2
    shift 2
    local out
    out=$(timeout -s INT "$secs" iscsi-perf "$@" "$url" 2>&1 | tr '\r' '\n' || true)
    echo "$out" | grep -o 'iops average [0-9]* ([0-9]* MB/s)' | tail -1 | sed -E 's/iops average ([0-9]+) \(([0-9]+) MB\/s\)/\1 \2/'
}

# One round of the case in $args on each target (for `alternate`).
ostia_round() { perf "$SECONDS_PER_RUN" "$OSTIA_URL" $args; }
tgtd_round() { perf "$SECONDS_PER_RUN" "$TGTD_URL" $args; }

CASES=("seq 64KiB depth 32|-b 128 -m 32" "rand 4KiB depth 32|-b 8 -m 32 -r" "rand 4KiB depth 1|-b 8 -m 1 -r")

echo "warming up both targets (JIT, page cache)..." >&2
for c in "${CASES[@]}"; do
    args=${c#*|}
    perf 6 "$OSTIA_URL" $args >/dev/null
    perf 3 "$TGTD_URL" $args >/dev/null
done

printf '%-20s %12s %10s %12s %10s %8s\n' case "Ostia IOPS" "MiB/s" "tgtd IOPS" "MiB/s" ratio
for c in "${CASES[@]}"; do
    name=${c%%|*}
    args=${c#*|}
    oi=0; om=0; ti=0; tm=0
    for r in $(seq "$ROUNDS"); do
        alternate "$r" ostia_round tgtd_round
        read -r i m <<<"$ran_a"
        oi=$((oi + ${i:-0})); om=$((om + ${m:-0}))
        read -r i m <<<"$ran_b"
        ti=$((ti + ${i:-0})); tm=$((tm + ${m:-0}))
    done
    oi=$((oi / ROUNDS)); om=$((om / ROUNDS)); ti=$((ti / ROUNDS)); tm=$((tm / ROUNDS))
    ratio=$(python3 -c "print(f'{$oi / $ti:.2f}' if $ti else 'n/a')")
    printf '%-20s %12d %10d %12d %10d %8s\n' "$name" "$oi" "$om" "$ti" "$tm" "$ratio"
done
