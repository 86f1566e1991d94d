package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.internal.OpenObjects;
import io.ostia.rdma.internal.ffm.gen.ibv_comp_channel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/** Owns one {@code ibv_cq} and its {@code ibv_comp_channel}. */
final class NativeCompletionQueue implements CompletionQueue {
    /** Longest single poll(2) wait, so that close() is noticed. */
    private static final int WAIT_SLICE_MILLIS = 100;

    final NativeDevice device;
    final MemorySegment cq;
    private final Calls calls;
    final Set<NativeQueuePair> queuePairs = ConcurrentHashMap.newKeySet();
    private final MemorySegment channel;
    private final int capacity;
    private final long serial;
    private final Arena arena = Arena.ofShared();
    private final DataPath.Poller poller;
    /** Guarded by {@link #waitLock}. */
    private final CompletionWait wait;
    private final ReentrantLock pollLock = new ReentrantLock();
    private final ReentrantLock waitLock = new ReentrantLock();
    private volatile boolean closed;
    /** The native queue, its channel and the arena are freed; set under {@link #waitLock}. */
    private volatile boolean released;
    /** Guarded by {@link #waitLock}. */
    private boolean cqDestroyed;

    NativeCompletionQueue(NativeDevice device, MemorySegment cq, MemorySegment channel, int capacity) {
        this.device = device;
        this.cq = cq;
        this.calls = device.calls;
        this.channel = NativeAccess.struct(channel, ibv_comp_channel.layout());
        this.capacity = capacity;
        this.poller = new DataPath.Poller(cq, arena);
        this.wait = new CompletionWait(calls, cq, this.channel, arena);
        this.serial = device.provider.openObjects.nextSerial();
        device.provider.openObjects.opened(this);
    }

    @Override
    public RdmaDevice device() {
        return device;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int poll(WorkCompletion[] into) {
        pollLock.lock();
        try {
            requireOpen();
            int total = 0;
            while (total < into.length) {
                int n = poller.poll(into, total);
                if (n < 0) {
                    throw new RdmaException("ibv_poll_cq on " + this + " failed with " + n);
                }
                total += n;
                if (n < DataPath.POLL_BATCH) {
                    break;
                }
            }
            return total;
        } finally {
            pollLock.unlock();
        }
    }

    @Override
    public void requestNotification(boolean solicitedOnly) {
        pollLock.lock();
        try {
            requireOpen();
            int rc = poller.requestNotification(solicitedOnly);
            if (rc != 0) {
                throw NativeAccess.failure("ibv_req_notify_cq", rc);
            }
        } finally {
            pollLock.unlock();
        }
    }

    @Override
    public boolean awaitNotification(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!waitLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return false;
        }
        try {
            while (true) {
                requireOpen();
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMillis <= 0) {
                    return false;
                }
                if (wait.await((int) Math.min(leftMillis, WAIT_SLICE_MILLIS))) {
                    return true;
                }
            }
        } finally {
            waitLock.unlock();
        }
    }

    /** Runs {@code action} while this queue is open and cannot close (for attaching a queue pair). */
    <T> T whileOpen(java.util.function.Supplier<T> action) {
        pollLock.lock();
        try {
            requireOpen();
            return action.get();
        } finally {
            pollLock.unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /**
     * Closes in two steps, each done once: refuse further use, then free the queue, its channel
     * and the arena. A native destroy that fails leaves the rest for the next close to retry.
     */
    @Override
    public void close() {
        pollLock.lock();
        try {
            if (released) {
                return;
            }
            if (!closed) {
                OpenObjects.requireNoneOpen(this, queuePairs);
                closed = true;
            }
        } finally {
            pollLock.unlock();
        }
        // A waiter notices closed within one wait slice; the channel must outlive its poll(2).
        waitLock.lock();
        try {
            if (released) {
                return;
            }
            if (!cqDestroyed) {
                // ibv_destroy_cq waits until every event read was acknowledged.
                wait.acknowledgeAll();
                calls.ibvDestroyCq.invokeReturningErrno(cq);
                cqDestroyed = true;
            }
            calls.ibvDestroyCompChannel.invokeReturningErrno(channel);
            released = true;
            arena.close();
            device.provider.openObjects.closed(this);
            device.release();
        } finally {
            waitLock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "completion queue #" + serial + " on " + device.name();
    }
}
