package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.SessionOptions;
import java.util.Set;

/** Connects and logs a session in over the first usable transport; the session calls it to recover or swap. */
@FunctionalInterface
interface Connector {
    /**
     * @param isid      the session's ISID, kept across reconnects so the I_T nexus stays the same
     * @param excluded  transport names not to use (one that is leaving)
     * @param limit     the whole attempt, connect and login, ends within this (and within the login timeout)
     */
    LoginResult connect(SessionOptions options, long isid, Set<String> excluded, java.time.Duration limit)
            throws IscsiException;
}
