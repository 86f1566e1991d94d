package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.OpenObjects;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.Condition;

final class LoopbackCompletionQueue implements CompletionQueue {
    /** @param kind what the work was (see {@link io.ostia.rdma.loopback.WorkMatch}), also when it failed */
    record Completion(long wrId, WorkCompletionStatus status, WorkCompletionOpcode opcode, int byteLength,
                      boolean hasImmediate, int immediateData, int queuePairNumber, boolean solicited,
                      WorkCompletionOpcode kind) {
    }

    final LoopbackDevice device;
    final Set<LoopbackQueuePair> queuePairs = new HashSet<>();
    private final int capacity;
    private final long serial;
    private final ArrayDeque<Completion> entries = new ArrayDeque<>();
    private final Condition notified;
    private boolean armed;
    private boolean solicitedOnly;
    private int notifications;
    private boolean overrun;
    private boolean closed;

    LoopbackCompletionQueue(LoopbackDevice device, int capacity) {
        this.device = device;
        this.capacity = capacity;
        this.notified = device.fabric.lock.newCondition();
        this.serial = device.fabric.openObjects.nextSerial();
        device.fabric.openObjects.opened(this);
    }

    @Override
    public RdmaDevice device() {
        return device;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Adds a completion (fabric lock held), unless an injected fault keeps it from the queue. */
    void add(Completion c) {
        CompletionFaults faults = device.fabric.completionFaults;
        if (faults.intercepts() && faults.intercept(this, c)) {
            return;
        }
        deliver(c);
    }

    /** Puts a completion in the queue (fabric lock held), raising the armed notification if it qualifies. */
    void deliver(Completion c) {
        if (closed) {
            return;
        }
        if (entries.size() == capacity) {
            overrun = true;
            return;
        }
        entries.add(c);
        if (armed && (!solicitedOnly || c.solicited() || c.status() != WorkCompletionStatus.SUCCESS)) {
            armed = false;
            notifications++;
            notified.signalAll();
        }
    }

    @Override
    public int poll(WorkCompletion[] into) {
        device.fabric.lock.lock();
        try {
            requireOpen();
            device.fabric.completionFaults.deliverDue();
            if (overrun) {
                throw new RdmaException(this + " overran: more than " + capacity + " completions were outstanding");
            }
            int n = 0;
            while (n < into.length && !entries.isEmpty()) {
                Completion c = entries.poll();
                into[n++].set(c.wrId(), c.status(), c.opcode(), c.byteLength(), c.hasImmediate(), c.immediateData(),
                        c.queuePairNumber(), 0);
            }
            return n;
        } finally {
            device.fabric.lock.unlock();
        }
    }

    @Override
    public void requestNotification(boolean onlySolicited) {
        device.fabric.lock.lock();
        try {
            requireOpen();
            armed = true;
            solicitedOnly = onlySolicited;
        } finally {
            device.fabric.lock.unlock();
        }
    }

    @Override
    public boolean awaitNotification(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        device.fabric.lock.lock();
        try {
            while (true) {
                requireOpen();
                device.fabric.completionFaults.deliverDue();
                if (notifications > 0) {
                    notifications--;
                    return true;
                }
                if (left <= 0) {
                    return false;
                }
                // Wake for a delayed completion falling due: nothing else delivers it.
                long slice = device.fabric.completionFaults.nanosToNextDue(left);
                left -= slice - notified.awaitNanos(slice);
            }
        } finally {
            device.fabric.lock.unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    @Override
    public void close() {
        device.fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            OpenObjects.requireNoneOpen(this, queuePairs);
            closed = true;
            entries.clear();
            notified.signalAll();
            device.fabric.openObjects.closed(this);
        } finally {
            device.fabric.lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return device.fabric.lockedTest(() -> closed);
    }

    @Override
    public String toString() {
        return "completion queue #" + serial + " on " + device.name();
    }
}
