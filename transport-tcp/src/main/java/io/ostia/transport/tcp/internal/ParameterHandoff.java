package io.ostia.transport.tcp.internal;

import io.ostia.api.TransportException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The parameters of one bind, handed from the session's thread (setParameters) to the send path
 * and to the receive thread, which waits for them at the login switch point. Starts with the
 * login values; the lock is held only to hand over or to wait, bounded, on {@link #changed}.
 */
final class ParameterHandoff {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** What setParameters gave; null until then. Guarded by {@link #lock}. */
    private TcpParameters negotiated;
    /** Guarded by {@link #lock}. */
    private boolean started;
    /** Guarded by {@link #lock}. */
    private boolean stopped;
    /** What the send path uses now: login values until setParameters. */
    private volatile TcpParameters current = TcpParameters.LOGIN;

    TcpParameters current() {
        return current;
    }

    void negotiated(TcpParameters values) {
        lock.lock();
        try {
            negotiated = values;
            current = values;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void started() {
        lock.lock();
        try {
            started = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void stopped() {
        lock.lock();
        try {
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Called by the receive thread after the final Login Response: waits (bounded) until the
     * session has given the negotiated parameters, or started or stopped the connection, and
     * returns what the decoder must switch to for the next PDU.
     */
    TcpParameters awaitAfterLogin(long timeoutNanos, String peer) throws TransportException, InterruptedException {
        long remaining = timeoutNanos;
        lock.lock();
        try {
            while (negotiated == null && !started && !stopped) {
                if (remaining <= 0) {
                    throw new TransportException("the session gave no negotiated parameters within "
                            + java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                            + " ms of the final Login Response from " + peer + " (the transport's progress timeout)");
                }
                remaining = changed.awaitNanos(remaining);
            }
            return negotiated == null ? TcpParameters.LOGIN : negotiated;
        } finally {
            lock.unlock();
        }
    }
}
