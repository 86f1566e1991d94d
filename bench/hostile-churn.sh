#!/usr/bin/env bash
# What hostile clients cost the embedded target (issue 12), as printed figures:
#   churn N      N connections (default 10000), 16 at a time, each sending random bytes and closing:
#                peak threads and native memory (Native Memory Tracking, heap excluded) and RSS
#   withhold S   a logged-in initiator withholds the data of eight 256 MiB writes for S seconds
#                (default 10) while a legitimate session writes and verifies: its error count
# Runs io.ostia.target.HostileBench (embedded-target's test classes) in one JVM, loopback only.
# Builds nothing: run `./mvnw -B -o -pl embedded-target -am test-compile` first.
# Usage: bench/hostile-churn.sh [churn N | withhold S]...   (default: churn 10000 withhold 10)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
cp="$root/embedded-target/target/test-classes:$root/embedded-target/target/classes:$root/api/target/classes:$root/rdma/target/classes"
for d in embedded-target/target/test-classes embedded-target/target/classes api/target/classes rdma/target/classes; do
  [ -d "$root/$d" ] || { echo "hostile-churn: $d is missing: run ./mvnw -B -o -pl embedded-target -am test-compile" >&2; exit 1; }
done
[ -f "$root/embedded-target/target/test-classes/io/ostia/target/HostileBench.class" ] \
  || { echo "hostile-churn: HostileBench is not compiled: run ./mvnw -B -o -pl embedded-target -am test-compile" >&2; exit 1; }
[ $# -gt 0 ] || set -- churn 10000 withhold 10
while [ $# -gt 0 ]; do
  mode="$1"; arg="${2:-}"; shift; [ $# -gt 0 ] && shift
  echo "# $mode $arg ($(git -C "$root" rev-parse --short HEAD))"
  "$java" -XX:NativeMemoryTracking=summary -Xmx2g --enable-native-access=ALL-UNNAMED \
    -cp "$cp" io.ostia.target.HostileBench "$mode" $arg
done
