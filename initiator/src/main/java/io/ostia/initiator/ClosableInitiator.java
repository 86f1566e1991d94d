package io.ostia.initiator;

import io.ostia.api.Initiator;

/** An {@link Initiator} built by {@link Initiators}, which the caller closes when done. */
public interface ClosableInitiator extends Initiator, AutoCloseable {

    /**
     * Logs out every session (bounded per session), stops the initiator's thread, then closes the
     * transports the initiator loaded itself. Idempotent.
     */
    @Override
    void close();
}
