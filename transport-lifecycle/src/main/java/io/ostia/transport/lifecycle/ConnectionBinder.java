package io.ostia.transport.lifecycle;

import io.ostia.api.TransportException;
import io.ostia.api.spi.TransportEndpoint;

/** A transport's way to bind one connection to an endpoint; given to {@link TransportLifecycle#createConnection}. */
@FunctionalInterface
public interface ConnectionBinder {

    /**
     * Checks that {@code endpoint} is this transport's and up, attaches to it and starts the
     * wire (Linux {@code bind_conn}). Called under the connection's lifecycle lock, only in
     * the states created and stopped; it may start a thread but not wait for one.
     *
     * @throws TransportException the endpoint is of another transport or instance, not up, or
     *                            already carries a connection; nothing is left attached
     */
    ConnectionBinding bind(TransportEndpoint endpoint, boolean leading) throws TransportException;
}
