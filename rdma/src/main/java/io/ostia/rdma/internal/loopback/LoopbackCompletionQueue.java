package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.OpenObjects;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loopback completion queue: a ring with one producer side and one consumer side, as an HCA's
 * CQ. Completions are produced only by work executing under the fabric lock, so producers never
 * race one another; the consumer side (poll, arm, wait) takes only the queue's own lock, and the
 * producer takes it only to raise an armed notification. Producer and consumer meet at the ring's
 * volatile {@link #tail} and {@link #head}: a producer publishes the tail then reads
 * {@link #armed}; a consumer arms then polls, so one of them sees the other and no notification
 * is lost.
 */
final class LoopbackCompletionQueue implements CompletionQueue {

    private static final System.Logger LOG = System.getLogger(LoopbackCompletionQueue.class.getName());
    /**
     * A completion a fault keeps from its queue (held or delayed); on the fault-free path the
     * fields go straight into the queue's ring.
     *
     * @param kind what the work was (see {@link io.ostia.rdma.loopback.WorkMatch}), also when it failed
     */
    record Completion(long wrId, WorkCompletionStatus status, WorkCompletionOpcode opcode, int byteLength,
                      boolean hasImmediate, int immediateData, int queuePairNumber, boolean solicited,
                      WorkCompletionOpcode kind) {
    }

    final LoopbackDevice device;
    final Set<LoopbackQueuePair> queuePairs = new HashSet<>();
    private final int capacity;
    private final long serial;
    /**
     * The consumer side's lock (pollers, arming, waiters, notifications); nests inside the fabric
     * lock, never around it.
     */
    private final ReentrantLock lock = new ReentrantLock();
    /** The queue's entries, made once: entry i at {@code i % ring.length}. */
    private final WorkCompletion[] ring;
    /** The next entry to poll; written by pollers under {@link #lock}, after they copied the entries out. */
    private volatile long head;
    /** The next entry to fill; written by producers under the fabric lock, after they filled it. */
    private volatile long tail;
    /**
     * Threads in {@link #awaitNotification}, woken by unpark: unlike a Condition, a wait makes no
     * node, so a completion thread that sleeps per batch allocates nothing.
     */
    private final ArrayList<Thread> waiters = new ArrayList<>(2);
    /** Set under {@link #lock}; read by producers without it. */
    private volatile boolean armed;
    private boolean solicitedOnly;
    private int notifications;
    /** Set by a producer (fabric lock), reported by the next poll. */
    private volatile boolean overrun;
    private volatile boolean closed;
    /** Counts of the consumer's behaviour, kept only with {@link Trace#ENABLED}. */
    private final Trace trace = Trace.ENABLED ? new Trace() : null;

    /**
     * A debug trace of how a queue is consumed, for finding convoys (one side running dry while
     * the other holds the work): polls that found the queue empty, the sizes of the batches the
     * non-empty ones took, sleeps, and notifications the producer raised (each a wake-up of a
     * sleeper). Enabled by the system property {@code ostia.rdma.loopback.traceCompletions};
     * logged (INFO) when the queue closes. The counts are plain fields written by the
     * consumer (notifications: under the queue's lock): one thread polls a queue here.
     */
    static final class Trace {
        static final boolean ENABLED = Boolean.getBoolean("ostia.rdma.loopback.traceCompletions");
        /** Batch size buckets: 1, 2, 3-4, 5-8, 9-16, 17 or more. */
        private static final String[] BUCKETS = {"1", "2", "3-4", "5-8", "9-16", "17+"};
        final long[] batches = new long[BUCKETS.length];
        long completions;
        long emptyPolls;
        long sleeps;
        long notifications;
        /** The thread that polled first: which side's queue this is. */
        String consumer;

        void polled(int n) {
            if (consumer == null) {
                consumer = Thread.currentThread().getName();
            }
            if (n == 0) {
                emptyPolls++;
                return;
            }
            completions += n;
            batches[Math.min(BUCKETS.length - 1, 64 - Long.numberOfLeadingZeros(n - 1))]++;
        }

        String describe() {
            StringBuilder b = new StringBuilder();
            long polls = 0;
            for (int i = 0; i < batches.length; i++) {
                polls += batches[i];
                b.append(i == 0 ? "" : ", ").append(BUCKETS[i]).append(": ").append(batches[i]);
            }
            return "polled by " + consumer + ": " + completions + " completions in " + polls + " non-empty polls (mean "
                    + String.format(java.util.Locale.ROOT, "%.2f", polls == 0 ? 0.0 : (double) completions / polls)
                    + "; batch sizes " + b + "), " + emptyPolls + " empty polls, " + sleeps + " sleeps, "
                    + notifications + " notifications raised";
        }
    }

    LoopbackCompletionQueue(LoopbackDevice device, int capacity) {
        this.device = device;
        this.capacity = capacity;
        this.ring = new WorkCompletion[Math.max(capacity, 1)];
        for (int i = 0; i < ring.length; i++) {
            ring[i] = new WorkCompletion();
        }
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

    /** Adds an error completion (fabric lock held); see {@link #add(long, WorkCompletionStatus, WorkCompletionOpcode, int, boolean, int, int, boolean, WorkCompletionOpcode)}. */
    void add(long wrId, WorkCompletionStatus status, int queuePairNumber, WorkCompletionOpcode kind) {
        add(wrId, status, WorkCompletionOpcode.UNKNOWN, 0, false, 0, queuePairNumber, false, kind);
    }

    /**
     * Adds a completion (fabric lock held), unless an injected fault keeps it from the queue.
     * Without faults it allocates nothing: the fields go into the ring.
     */
    void add(long wrId, WorkCompletionStatus status, WorkCompletionOpcode opcode, int byteLength, boolean hasImmediate,
             int immediateData, int queuePairNumber, boolean solicited, WorkCompletionOpcode kind) {
        CompletionFaults faults = device.fabric.completionFaults;
        if (faults.intercepts() && faults.intercept(this, new Completion(wrId, status, opcode, byteLength,
                hasImmediate, immediateData, queuePairNumber, solicited, kind))) {
            return;
        }
        deliver(wrId, status, opcode, byteLength, hasImmediate, immediateData, queuePairNumber, solicited);
    }

    /** Puts a completion a fault kept back in the queue (fabric lock held). */
    void deliver(Completion c) {
        deliver(c.wrId(), c.status(), c.opcode(), c.byteLength(), c.hasImmediate(), c.immediateData(),
                c.queuePairNumber(), c.solicited());
    }

    /** Puts a completion in the queue (fabric lock held), raising the armed notification if it qualifies. */
    private void deliver(long wrId, WorkCompletionStatus status, WorkCompletionOpcode opcode, int byteLength,
                         boolean hasImmediate, int immediateData, int queuePairNumber, boolean solicited) {
        if (closed) {
            return;
        }
        long t = tail;
        if (t - head == capacity) {
            overrun = true;
            return;
        }
        ring[(int) (t % ring.length)].set(wrId, status, opcode, byteLength, hasImmediate, immediateData,
                queuePairNumber, 0);
        tail = t + 1;
        if (armed) {
            notifyArmed(solicited || status != WorkCompletionStatus.SUCCESS);
        }
    }

    /** Raises the armed notification for a completion (solicited or an error: {@code urgent}). */
    private void notifyArmed(boolean urgent) {
        Fabric.lockSpinning(lock);
        try {
            if (armed && (!solicitedOnly || urgent)) {
                armed = false;
                notifications++;
                if (trace != null) {
                    trace.notifications++;
                }
                wakeWaiters();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A completion for this queue was delayed: waiters sleep only until it falls due (fabric lock held). */
    void delayed() {
        lock.lock();
        try {
            wakeWaiters();
        } finally {
            lock.unlock();
        }
    }

    private void wakeWaiters() {
        for (int i = 0; i < waiters.size(); i++) {
            LockSupport.unpark(waiters.get(i));
        }
    }

    @Override
    public int poll(WorkCompletion[] into) {
        // An empty queue, as a poller spinning before it sleeps sees it: no lock taken, so the
        // thread producing completions is not made to wait (and sleep) for it.
        CompletionFaults faults = device.fabric.completionFaults;
        if (head == tail && !closed && !faults.delaying()) {
            if (trace != null) {
                trace.polled(0);
            }
            return 0;
        }
        if (faults.delaying()) {
            device.fabric.run(faults::deliverDue);
        }
        Fabric.lockSpinning(lock);
        try {
            requireOpen();
            if (overrun) {
                throw new RdmaException(this + " overran: more than " + capacity + " completions were outstanding");
            }
            int n = 0;
            long h = head;
            long t = tail;
            while (n < into.length && h != t) {
                WorkCompletion c = ring[(int) (h % ring.length)];
                into[n++].set(c.wrId(), c.status(), c.opcode(), c.byteLength(), c.hasImmediate(), c.immediateData(),
                        c.queuePairNumber(), c.vendorError());
                h++;
            }
            head = h; // the entries are copied out: producers may refill them
            if (trace != null) {
                trace.polled(n);
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void requestNotification(boolean onlySolicited) {
        lock.lock();
        try {
            requireOpen();
            solicitedOnly = onlySolicited;
            armed = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitNotification(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Thread self = Thread.currentThread();
        CompletionFaults faults = device.fabric.completionFaults;
        lock.lock();
        try {
            requireOpen();
            waiters.add(self);
        } finally {
            lock.unlock();
        }
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                // Wake for a delayed completion falling due: nothing else delivers it.
                long slice = faults.delaying() ? device.fabric.nanosToNextDue(left) : left;
                lock.lock();
                try {
                    requireOpen();
                    if (notifications > 0) {
                        notifications--;
                        return true;
                    }
                    if (left <= 0) {
                        return false;
                    }
                    if (Thread.interrupted()) {
                        throw new InterruptedException("interrupted waiting for a notification of " + this);
                    }
                } finally {
                    lock.unlock();
                }
                // An unpark between unlock and park is not lost: park returns at once.
                if (trace != null) {
                    trace.sleeps++;
                }
                LockSupport.parkNanos(this, slice);
            }
        } finally {
            lock.lock();
            try {
                waiters.remove(self);
            } finally {
                lock.unlock();
            }
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
            lock.lock();
            try {
                closed = true;
                wakeWaiters();
                if (trace != null) {
                    LOG.log(System.Logger.Level.INFO, "ostia.rdma.loopback.traceCompletions: " + this + ": " + trace.describe());
                }
            } finally {
                lock.unlock();
            }
            device.fabric.openObjects.closed(this);
        } finally {
            device.fabric.lock.unlock();
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
