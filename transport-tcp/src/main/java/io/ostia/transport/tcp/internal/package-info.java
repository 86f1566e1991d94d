/**
 * The TCP transport's implementation (private to the bundle).
 *
 * <h2>Objects</h2>
 * {@link io.ostia.transport.tcp.internal.TcpTransport} (the transport; its life, the lists of
 * endpoints and connections and the connection state machine are the shared
 * {@code io.ostia.transport.lifecycle}'s), {@link io.ostia.transport.tcp.internal.TcpEndpoint}
 * (one non-blocking socket, connected by poll) and, per bind, a
 * {@link io.ostia.transport.tcp.internal.Binding} (attach to retire, the sender, the bind's
 * parameters) with its {@link io.ostia.transport.tcp.internal.Receiver} (receive thread and
 * decoder) and {@link io.ostia.transport.tcp.internal.DataMover} (task table, immediate data,
 * R2T and Data-Out, Data-In placement).
 *
 * <h2>Threads</h2>
 * One platform daemon thread per bound connection, named {@code ostia-tcp-rx-<host:port>},
 * reads and decodes, places Data-In data in task buffers, answers R2Ts with Data-Out and makes
 * every owner call. Callers' threads send commands, immediate and unsolicited data. Connecting
 * needs no thread: poll finishes the connect in the caller's thread. Nothing else runs.
 *
 * <h2>Locks, in the order they may be taken</h2>
 * <ol>
 *   <li>the connection's lifecycle lock (the shared lifecycle's; never held while waiting for
 *       I/O or a thread);</li>
 *   <li>the endpoint's state lock (never held while waiting);</li>
 *   <li>the bind's parameter lock, held to hand parameters over and by the receive thread's
 *       bounded wait for them after the final Login Response;</li>
 *   <li>a task's lock, held by whoever touches the task buffer, and by cleanup and stop to
 *       wait them out;</li>
 *   <li>the sender's lock, held for the writing of one PDU.</li>
 * </ol>
 * Every wait is bounded: by the progress timeout (a send that moves no byte, a task buffer
 * still in use, the parameters after login), the release timeout (a receive thread to end,
 * owners to leave) or the connect timeout.
 */
package io.ostia.transport.tcp.internal;
