package io.ostia.api.spi;

import io.ostia.api.TransportException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The transport-level connection to a target (Linux {@code iscsi_endpoint}): a TCP socket or an
 * RDMA connection. Created by {@link IscsiTransport#connect}, carried by one
 * {@link TransportConnection} at a time once bound.
 */
@ProviderType
public interface TransportEndpoint {

    /**
     * Waits up to {@code timeout} for the connection to come up (Linux {@code ep_poll}).
     * May be called again after it returned false.
     *
     * @return true when up, false when the timeout passed first
     * @throws TransportException   the connect failed (refused, unreachable, rejected); the
     *                              message names the address and the cause
     * @throws InterruptedException the waiting thread was interrupted; the endpoint is untouched
     */
    boolean poll(Duration timeout) throws TransportException, InterruptedException;

    InetSocketAddress remoteAddress();

    /** The local address once up, else null. */
    InetSocketAddress localAddress();

    /**
     * Terminates the transport connection without waiting (Linux {@code ep_disconnect}):
     * no more PDUs cross it. If a connection is bound, its release is queued and finishes after
     * that connection's {@link TransportConnection#stop}; if none is, resources are released at
     * once. Idempotent. May come before or after the bound connection's stop.
     */
    void disconnect();
}
