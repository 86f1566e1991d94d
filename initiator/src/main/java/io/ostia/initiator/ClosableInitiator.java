package io.ostia.initiator;

import io.ostia.api.Initiator;
import io.ostia.api.spi.IscsiTransport;

/** An {@link Initiator} built by {@link Initiators}, which the caller closes when done. */
public interface ClosableInitiator extends Initiator, AutoCloseable {

    /**
     * Makes a transport available (as an OSGi service appearing would): new logins may use it,
     * and sessions whose {@link io.ostia.api.SessionOptions#failback() failback policy} prefers
     * it move to it. It stays the caller's.
     */
    void addTransport(IscsiTransport transport);

    /**
     * Takes a transport away (as an OSGi service going would). Sessions still on it move to
     * another transport at once; a transport that is closed moves its sessions itself first.
     */
    void removeTransport(IscsiTransport transport);

    /**
     * Logs out every session (bounded per session), stops the initiator's thread, then closes the
     * transports the initiator loaded itself. Idempotent.
     */
    @Override
    void close();
}
