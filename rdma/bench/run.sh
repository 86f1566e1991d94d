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
# Load from other processes skews short runs, so both sides report the mean and the best of
# five measurements (JMH iterations of 1 s, C runs of 20M operations); the C loop runs both
# before and after JMH and its better run counts.
c_before=$("$out/c_loop")
(cd "$root" && ./mvnw -B -Pbench -pl rdma -am verify -DskipTests) | tee "$out/jmh.txt" | grep -E 'DataPathBenchmark|Benchmark ' || true
c_after=$("$out/c_loop")
echo "$c_before (before JMH)"
echo "$c_after (after JMH)"

java_mean=$(awk '$1 == "DataPathBenchmark.postSendAndPoll" {print $4}' "$out/jmh.txt")
java_best=$(awk '$1 == "Iteration" {v = $3 + 0; if (best == "" || v < best) best = v} END {print best}' "$out/jmh.txt")
alloc=$(awk '$1 == "DataPathBenchmark.postSendAndPoll:gc.alloc.rate.norm" {print $4, $5, $6, $7}' "$out/jmh.txt")
if [ -z "$java_mean" ]; then
  echo "run.sh: no JMH result; see $out/jmh.txt" >&2
  exit 1
fi
c_mean=$(printf '%s\n%s\n' "$c_before" "$c_after" | awk '{v = $3 + 0; if (m == "" || v < m) m = v} END {print m}')
c_best=$(printf '%s\n%s\n' "$c_before" "$c_after" | awk '{v = $5 + 0; if (m == "" || v < m) m = v} END {print m}')
echo "java (JMH): mean $java_mean ns/op, best iteration $java_best ns/op, allocation $alloc"
echo "c loop:     mean $c_mean ns/op, best run $c_best ns/op"
awk -v jm="$java_mean" -v cm="$c_mean" -v jb="$java_best" -v cb="$c_best" \
    'BEGIN { printf "ratio java/c: %.2f (means), %.2f (best)\n", jm / cm, jb / cb }'
