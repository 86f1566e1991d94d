#!/usr/bin/env bash
# Runs HostileClientsTest's scenarios against the embedded target from before issue 12, to show
# which of its bounds the old code breaks and by how much (issue 12's "the same scenarios failing
# on today's code"). Checks out COMMIT (default 711d8e1, the parent of the hostile changes) in a
# scratch worktree, drops in this tree's HostileClients, HostileClientsTest and a HostileSettings
# with only the settings the old builder has (login timeout, NOP-In: no connection caps per
# address, no Data-Out timeout), runs the test with Native Memory Tracking, prints its figures
# line and every assertion that failed, and removes the worktree. Builds in the scratch tree only.
# Usage: bench/hostile-before.sh [COMMIT]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
commit="${1:-711d8e1}"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
scratch="$(mktemp -d /tmp/ostia-hostile-before.XXXXXX)"
git -C "$root" worktree add -q --detach "$scratch" "$commit"
trap 'git -C "$root" worktree remove --force "$scratch"' EXIT
t=embedded-target/src/test/java/io/ostia/target
cp "$root/$t/HostileClients.java" "$root/$t/HostileClientsTest.java" "$scratch/$t/"
cat > "$scratch/$t/HostileSettings.java" <<'JAVA'
package io.ostia.target;

import java.time.Duration;

/** What the builder before issue 12 can set of HostileClientsTest's settings. */
final class HostileSettings {
    static IscsiTarget.Builder apply(IscsiTarget.Builder b) {
        return b.loginTimeout(HostileClientsTest.LOGIN_TIMEOUT).nopIn(Duration.ofSeconds(1), Duration.ofSeconds(5));
    }
}
JAVA
echo "# HostileClientsTest against embedded-target at $(git -C "$scratch" log --oneline -1) (load: $(cut -d' ' -f1-3 /proc/loadavg))"
log="$scratch/hostile-before.log"
(cd "$scratch" && ./mvnw -B -ntp -o -pl embedded-target -am verify -Dtest=HostileClientsTest \
    -Dsurefire.failIfNoSpecifiedTests=false \
    "-Dostia.test.jvm.args=--enable-native-access=ALL-UNNAMED -XX:NativeMemoryTracking=summary") > "$log" 2>&1 \
  && status=passed || status=failed
grep -h "hostile run" "$log" || echo "(no figures line: the run ended before it)"
report="$scratch/embedded-target/target/surefire-reports/io.ostia.target.HostileClientsTest.txt"
if [ -f "$report" ]; then
  grep -E "Tests run|^(org\.opentest4j\.)?[A-Za-z.]*(Error|Exception|Failure)[A-Za-z]*:|^\s+(expected|[a-zA-Z].*==>)" "$report" \
    | grep -v -e "^\s*at " -e "Suppressed:" | head -40
else
  tail -40 "$log"
fi
echo "# HostileClientsTest against the pre-issue-12 target: $status (load: $(cut -d' ' -f1-3 /proc/loadavg))"
