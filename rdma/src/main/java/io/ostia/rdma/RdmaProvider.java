package io.ostia.rdma;

import java.util.List;

/** One implementation of the verbs API; see {@link RdmaProviders}. */
public interface RdmaProvider {
    /** {@code native} or {@code loopback}. */
    String name();

    boolean isAvailable();

    /** Why the provider cannot be used, or null if it can. */
    Throwable unavailabilityCause();

    /**
     * @throws RdmaException with {@link #unavailabilityCause()} as cause if unavailable
     */
    default void ensureAvailability() {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new RdmaException("RDMA provider '" + name() + "' is unavailable: " + cause.getMessage(), cause);
        }
    }

    /** Names of the devices present now. */
    List<String> deviceNames();

    /**
     * Creates an event channel whose thread delivers to {@code handler}; the caller owns it.
     *
     * @throws RdmaException if the provider is unavailable
     */
    CmEventChannel createEventChannel(CmEventHandler handler);

    /**
     * Descriptions of every object of this provider that is open now (channels, ids, protection
     * domains, regions, queues, queue pairs): empty when everything was closed. For leak checks.
     */
    List<String> openObjects();
}
