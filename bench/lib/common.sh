# Setup the bench scripts share; sourced, not run. The caller sets `bench` (its name, for
# messages), `root` (the checkout), and for the CPU sampling `seconds` and `warmup`.
#   die MESSAGE          print "<bench>: MESSAGE" to stderr and exit 1
#   log MESSAGE          print "# MESSAGE"
#   require_cli [JAR..]  the command line is built (and these jars of cli/target/modules are there)
#   make_work            a fresh work folder on tmpfs when there is one (else TMPDIR), in $work
#   log_machine          a line with the time, the CPUs and the load average
#   cpu_ticks PID        user+system clock ticks of a process so far (0 when it is gone)
#   sample_cpu WHO TPID [FILE LINE]  ticks of WHO (a pid, or child-of:PID) and of TPID over the
#                        middle of a run (1 s after the warm-up to 1 s before the end), the run
#                        starting when LINE appears in FILE if given: "who target window_s"
#   per_io TICKS IOPS W  microseconds of CPU per I/O
#   thread_ticks PID     "tid ticks name" per thread of a process (names with digits cut: "C2 CompilerThread")
#   thread_split A B     from two thread_ticks snapshots, each thread group's share of the process's
#                        CPU between them, biggest first: "ostia-tcp-rx- 97%, C2 CompilerThre 2%"
#   median               the median of the numbers on standard input (whitespace-separated)
#   alternate R A B      round R of a comparison: runs "A R" and "B R", A first in odd rounds and B
#                        first in even ones (neither always runs on the machine the other warmed);
#                        their standard outputs in $ran_a and $ran_b; a failing run fails the caller
#   perf_iops FILE / perf_alloc FILE / perf_cpu FILE   the figures of an `ostia perf` output

die() { echo "${bench:-bench}: $*" >&2; exit 1; }
log() { echo "# $*"; }

require_cli() {
  local jar
  compgen -G "$root/cli/target/ostia-cli-*.jar" >/dev/null && compgen -G "$root/cli/target/modules/*.jar" >/dev/null \
    || die "the command line is not built: run (cd '$root' && ./mvnw -B -DskipTests package) first"
  for jar in "$@"; do
    [ -f "$root/cli/target/modules/$jar" ] \
      || die "the command line is built without $jar: run (cd '$root' && ./mvnw -B -DskipTests package) first"
  done
}

make_work() {
  local base=/dev/shm
  [ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
  work=$(mktemp -d "$base/ostia-${bench:-bench}.XXXXXX")
}

log_machine() {
  log "$(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sample_cpu() {
  local who=$1 tpid=$2 started=${3:-} line=${4:-} pid a b c d window=$((seconds - 2))
  if [ -n "$started" ]; then
    # A JVM's start and login take a second or more (several under load): with FILE and LINE
    # the sample counts from when LINE (the load's start) appears in FILE, not from the launch.
    for _ in $(seq 600); do
      grep -q "$line" "$started" 2>/dev/null && break
      kill -0 "$who" 2>/dev/null || break
      sleep 0.1
    done
  fi
  sleep "$((warmup + 1))"
  pid=$who
  [[ $who == child-of:* ]] && pid=$(pgrep -n -P "${who#child-of:}")
  a=$(cpu_ticks "$pid"); c=$(cpu_ticks "$tpid")
  [ -z "${threads_file:-}" ] || thread_ticks "$pid" >"$threads_file.a"
  sleep "$window"
  b=$(cpu_ticks "$pid"); d=$(cpu_ticks "$tpid")
  [ -z "${threads_file:-}" ] || thread_ticks "$pid" >"$threads_file.b"
  echo "$((b - a)) $((d - c)) $window"
}
per_io() {
  [ "$1" -ge 0 ] || die "a CPU sample went backwards ($1 ticks): the process ended before the sample did"
  awk -v t="$1" -v i="$2" -v w="$3" -v clk="$clk" 'BEGIN { printf "%.1f", (i > 0 && w > 0) ? t / clk * 1e6 / (i * w) : 0 }'
}
thread_ticks() {
  # One awk for all threads (a snapshot must be quick); comm may hold spaces: the name is what
  # the parentheses hold, the ticks are fields 14 and 15, counted after them.
  awk '{ n = $0; sub(/^[^(]*\(/, "", n); sub(/\).*$/, "", n); gsub(/[0-9#]+$/, "", n); gsub(/ /, "_", n)
         r = $0; sub(/^.*\) /, "", r); split(r, f, " "); print $1, f[12] + f[13], n }' /proc/"$1"/task/*/stat 2>/dev/null || true
}
thread_split() {
  awk 'NR == FNR { was[$1] = $2; next } { d = $2 - was[$1]; g[$3] += d; all += d }
       END { if (all <= 0) { print "no CPU"; exit }
             for (k in g) if (g[k] > 0) printf "%s %.0f%%\n", k, 100 * g[k] / all }' "$1" "$2" \
    | sort -k2 -nr | paste -sd, - | sed 's/,/, /g'
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
alternate() {
  local r=$1 a=$2 b=$3
  if [ $((r % 2)) -eq 1 ]; then
    ran_a=$("$a" "$r"); ran_b=$("$b" "$r")
  else
    ran_b=$("$b" "$r"); ran_a=$("$a" "$r")
  fi
}

perf_iops() { tr '\r' '\n' <"$1" | sed -n 's/^result: \([0-9][0-9]*\) IOPS.*/\1/p' | tail -1; }
perf_alloc() { tr '\r' '\n' <"$1" | sed -n 's/^allocated: \([0-9]*\) B per I\/O.*/\1/p' | tail -1; }
perf_cpu() { tr '\r' '\n' <"$1" | sed -n 's/^cpu: \([0-9.]*\) us per I\/O.*/\1/p' | tail -1; }
