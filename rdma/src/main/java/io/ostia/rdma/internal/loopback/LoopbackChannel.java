package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventHandler;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.internal.CmEventDelivery;
import io.ostia.rdma.internal.OpenObjects;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Event channel of the loopback fabric: a FIFO of events, each due at a time (for injected
 * delays), drained by one thread. The queue lock nests inside the fabric lock, never around it.
 */
final class LoopbackChannel implements CmEventChannel {
    private record Pending(CmEvent event, long dueNanos) {
    }

    final Fabric fabric;
    final Set<LoopbackCmId> ids = new HashSet<>();
    private final CmEventHandler handler;
    private final long serial;
    private final Thread thread;
    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition queueChanged = queueLock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean stopping;
    private volatile boolean closed;

    LoopbackChannel(Fabric fabric, CmEventHandler handler) {
        this.fabric = fabric;
        this.handler = handler;
        this.serial = fabric.openObjects.nextSerial();
        this.thread = Thread.ofPlatform().daemon().name("ostia-rdma-loopback-cm-" + serial).unstarted(this::run);
        fabric.openObjects.opened(this);
        thread.start();
    }

    @Override
    public CmId createId() {
        fabric.lock.lock();
        try {
            requireOpen();
            LoopbackCmId id = new LoopbackCmId(this);
            ids.add(id);
            return id;
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public String threadName() {
        return thread.getName();
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    void enqueue(CmEvent event, long delayNanos) {
        queueLock.lock();
        try {
            if (!stopping) {
                queue.add(new Pending(event, System.nanoTime() + delayNanos));
                queueChanged.signalAll();
            }
        } finally {
            queueLock.unlock();
        }
    }

    private void run() {
        while (true) {
            CmEvent event = next();
            if (event == null) {
                return;
            }
            if (event.type() == CmEventType.CONNECT_REQUEST && event.listenId().isClosed()) {
                // Nobody will own the new id: refuse the connection for its peer.
                ((LoopbackCmId) event.id()).abandonRequest();
                continue;
            }
            if (!event.id().isClosed()) {
                CmEventDelivery.deliver(handler, event);
            }
        }
    }

    /** The next due event, or null once stopping. */
    private CmEvent next() {
        queueLock.lock();
        try {
            while (true) {
                if (stopping) {
                    return null;
                }
                Pending head = queue.peek();
                if (head == null) {
                    queueChanged.await();
                } else {
                    long wait = head.dueNanos - System.nanoTime();
                    if (wait <= 0) {
                        queue.poll();
                        return head.event;
                    }
                    queueChanged.awaitNanos(wait);
                }
            }
        } catch (InterruptedException e) {
            // Only close() stops this thread; an interrupt from elsewhere ends it as a close would.
            Thread.currentThread().interrupt();
            return null;
        } finally {
            queueLock.unlock();
        }
    }

    @Override
    public void close() {
        fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            OpenObjects.requireNoneOpen(this, ids);
            if (Thread.currentThread() == thread) {
                throw new IllegalStateException("an event channel cannot be closed from its own handler thread " + thread.getName());
            }
            closed = true;
            fabric.openObjects.closed(this);
        } finally {
            fabric.lock.unlock();
        }
        queueLock.lock();
        try {
            stopping = true;
            queue.clear();
            queueChanged.signalAll();
        } finally {
            queueLock.unlock();
        }
        CmEventDelivery.awaitStop(thread);
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "loopback event channel #" + serial;
    }
}
