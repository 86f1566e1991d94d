/**
 * Provider-neutral RDMA verbs: devices, protection domains, memory regions, completion queues,
 * reliable-connected queue pairs and an rdma_cm style connection manager.
 *
 * <p>Two providers implement it: {@code native} (libibverbs and librdmacm through
 * java.lang.foreign) and {@code loopback} (an in-JVM fabric with the same semantics); see
 * {@link io.ostia.rdma.RdmaProviders}. Data buffers are off-heap {@link java.lang.foreign.MemorySegment}s.
 *
 * <h2>Ownership</h2>
 * Every object has exactly one owner, the code that created it, and an idempotent
 * {@code close()}. Objects must be closed child first: memory regions and queue pairs before
 * their protection domain, queue pairs before their completion queues and connection id, ids
 * before their event channel. Closing a parent with live children throws
 * {@link java.lang.IllegalStateException} naming what is still open, and closes nothing.
 *
 * <h2>Threads</h2>
 * All objects are safe for use from several threads. Work request posting on one queue pair is
 * serialised by the queue pair; completion polling on one queue is serialised by the queue.
 * Connection-manager events arrive on the event channel's own thread, one at a time, in order.
 * Every blocking call takes a timeout.
 */
@Export
@Version("0.3.0")
package io.ostia.rdma;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
