/**
 * The iSCSI transport SPI: what a transport (TCP, iSER) implements so that the session layer
 * can carry sessions over it. It keeps the lifecycle points of Linux's
 * {@code struct iscsi_transport}: endpoint connect, poll and disconnect; connection create,
 * bind, start, stop and destroy; parameters; PDU send; task send and cleanup.
 *
 * <p>Transports implement {@link io.ostia.api.spi.IscsiTransport} and register it as an OSGi
 * service (and declare it for {@link java.util.ServiceLoader}); the session layer implements
 * {@link io.ostia.api.spi.ConnectionOwner} and {@link io.ostia.api.spi.TransportTask}. Neither
 * side knows the other's classes.
 *
 * <h2>Calling order</h2>
 * <pre>
 * login:     connect -> poll (until up) -> createConnection(queue depth) -> bind -> loginKeys
 *            -> sendPdu (login) ...
 *            -> setParameters -> start
 * I/O:       sendTask ... (owner.pduReceived for responses) ... cleanupTask when a task is
 *            aborted or timed out
 * logout:    sendPdu (logout) -> endpoint.disconnect -> stop(TERMINATE) -> destroy
 *            (the older order stop -> destroy -> disconnect must work too)
 * recovery:  endpoint.disconnect -> stop(RECOVER) -> connect/poll a new endpoint
 *            -> bind the same connection to it -> login -> setParameters -> start
 * </pre>
 */
@Export
@Version("0.4.0")
package io.ostia.api.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
