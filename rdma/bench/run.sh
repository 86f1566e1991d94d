#!/bin/sh
# Runs the data-path benchmark twice: in Java through the hand-bound verbs (JMH, with -prof gc)
# and in C, both against the stand-in provider fakeverbs.c; prints both figures and the ratio.
# Needs gcc and libibverbs-dev. Usage: rdma/bench/run.sh (from anywhere).
set -eu
rdma=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$rdma/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
command -v gcc >/dev/null || { echo "run.sh: gcc is needed (apt-get install gcc libibverbs-dev)" >&2; exit 2; }

out="$rdma/target/bench"
mkdir -p "$out"
gcc -O2 -Wall -Werror -shared -fPIC -o "$out/libfakeverbs.so" \
    "$rdma/src/test/resources/io/ostia/rdma/internal/ffm/fakeverbs.c"
gcc -O2 -Wall -Werror -o "$out/c_loop" "$rdma/bench/c_loop.c" -L"$out" -lfakeverbs -Wl,-rpath,"$out"
c_line=$("$out/c_loop")
echo "$c_line"

(cd "$root" && ./mvnw -B -Pbench -pl rdma -am verify -DskipTests) | tee "$out/jmh.txt" | grep -E 'DataPathBenchmark|Benchmark ' || true

java_ns=$(awk '$1 == "DataPathBenchmark.postSendAndPoll" {print $4}' "$out/jmh.txt")
alloc=$(awk '$1 == "DataPathBenchmark.postSendAndPoll:gc.alloc.rate.norm" {print $4, $5, $6, $7}' "$out/jmh.txt")
c_ns=$(echo "$c_line" | awk '{print $2}')
if [ -z "$java_ns" ]; then
  echo "run.sh: no JMH result; see $out/jmh.txt" >&2
  exit 1
fi
echo "java (JMH): $java_ns ns/op, allocation: $alloc"
echo "c loop:     $c_ns ns/op"
awk -v j="$java_ns" -v c="$c_ns" 'BEGIN { printf "ratio java/c: %.2f\n", j / c }'
