package io.ostia.target.internal.iscsi;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * A listening portal of the target: it accepts connections of one transport and gives each a
 * session-layer handler. Created bound (or failing with an {@link java.io.IOException} naming the
 * address), then {@link #start}ed, then {@link #close}d once.
 */
interface Portal {

    /** Starts accepting connections. */
    void start();

    /** The bound address (the real port when 0 was asked for). */
    InetSocketAddress address();

    /**
     * Stops accepting, closes every connection and waits (bounded) for their threads to end and
     * their resources to be freed.
     *
     * @return the names of threads that did not end in time (empty when all ended)
     */
    List<String> close(Duration wait);
}
