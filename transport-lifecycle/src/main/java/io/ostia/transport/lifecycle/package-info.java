/**
 * What every transport shares, written once: the leave protocol ({@link
 * io.ostia.transport.lifecycle.TransportLifecycle}), the release queue it drains ({@link
 * io.ostia.transport.lifecycle.ReleaseQueue}), the SPI connection state machine ({@link
 * io.ostia.transport.lifecycle.LifecycleConnection}, which hands each bind to the transport's
 * {@link io.ostia.transport.lifecycle.ConnectionBinding}) and the OSGi component's
 * registration that is undone last ({@link io.ostia.transport.lifecycle.TransportRegistration}).
 * A transport module keeps only its wire.
 *
 * <p>A bundle and JPMS module of its own rather than a package copied into each transport
 * bundle: two transport jars that each carried this package would split it on the module
 * path, and the module layer would refuse to start. {@code io.ostia.api} stays free of
 * threads; this module is where the transports' threads and waits that are not wire-specific
 * live.
 *
 * <h2>Threads</h2>
 * Leaving runs in the thread that closes the transport (the component's deactivation). A
 * release queue runs its work on one platform daemon thread, {@code ostia-<transport>-release},
 * started when work is queued and ended when the queue is empty. Nothing else runs here.
 *
 * <h2>Locks, in the order they may be taken</h2>
 * <ol>
 *   <li>a connection's lifecycle lock (never held while waiting for I/O, a thread or a
 *       release); the transport's binding code runs under it at bind and start;</li>
 *   <li>the transport's release monitor, held only to wait for and signal releases;</li>
 *   <li>the release queue's lock, held only to take and put work.</li>
 * </ol>
 */
@Export
@Version("0.1.0")
package io.ostia.transport.lifecycle;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
