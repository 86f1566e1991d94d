package io.ostia.target;

import java.time.Duration;

/**
 * The settings {@link HostileClientsTest}'s target runs with, apart from its scenarios so that
 * {@code bench/hostile-before.sh} can run the same scenarios against a target from before issue
 * 12, which had no connection caps per address and no Data-Out timeout to set.
 */
final class HostileSettings {

    private HostileSettings() {
    }

    static IscsiTarget.Builder apply(IscsiTarget.Builder b) {
        return b.maxConnections(HostileClientsTest.MAX_CONNECTIONS, HostileClientsTest.MAX_CONNECTIONS)
                .loginTimeout(HostileClientsTest.LOGIN_TIMEOUT).dataOutTimeout(HostileClientsTest.DATA_OUT_TIMEOUT)
                .nopIn(Duration.ofSeconds(1), Duration.ofSeconds(5));
    }
}
