package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The tests' own session-layer stand-in: records every owner call with the thread it came on,
 * tracks StatSN for Data-Out, and can run an action inside a callback (a stop from the
 * receive thread).
 */
final class RecordingOwner implements ConnectionOwner {

    final BlockingQueue<Pdu> received = new LinkedBlockingQueue<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final List<IscsiTransport> leaving = new CopyOnWriteArrayList<>();
    /** The names of the threads owner calls came on (a set: a list would grow with every PDU). */
    final java.util.Set<String> callbackThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final AtomicInteger windowUpdates = new AtomicInteger();
    final AtomicInteger maxCmdSN = new AtomicInteger();
    private final AtomicInteger expStatSN = new AtomicInteger();
    volatile Consumer<Throwable> onFailure = failure -> { };
    volatile Consumer<IscsiTransport> onLeaving = transport -> { };
    /** Runs in pduReceived before the PDU is queued; returning true consumes it. */
    volatile java.util.function.Predicate<Pdu> onPdu = pdu -> false;

    @Override
    public void pduReceived(Pdu pdu) {
        callbackThreads.add(Thread.currentThread().getName());
        switch (pdu) {
            case ScsiResponse response -> statSN(response.statSN(), response.maxCmdSN());
            case DataIn dataIn when dataIn.statusPresent() -> statSN(dataIn.statSN(), dataIn.maxCmdSN());
            case io.ostia.api.pdu.LoginResponse response -> statSN(response.statSN(), response.maxCmdSN());
            default -> { }
        }
        if (!onPdu.test(pdu)) {
            received.add(pdu);
        }
    }

    private void statSN(int statSN, int max) {
        expStatSN.set(statSN + 1);
        maxCmdSN.set(max);
    }

    @Override
    public void commandWindowUpdate(int expCmdSN, int maxCmdSN) {
        callbackThreads.add(Thread.currentThread().getName());
        windowUpdates.incrementAndGet();
        this.maxCmdSN.set(maxCmdSN);
    }

    @Override
    public int expectedStatSN() {
        return expStatSN.get();
    }

    @Override
    public void connectionFailed(Throwable cause) {
        callbackThreads.add(Thread.currentThread().getName());
        failures.add(cause);
        onFailure.accept(cause);
    }

    @Override
    public void transportLeaving(IscsiTransport transport) {
        leaving.add(transport);
        onLeaving.accept(transport);
    }

    /** The next PDU of type {@code type}, failing after {@code timeout}; others are skipped. */
    <T extends Pdu> T next(Class<T> type, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long remaining = deadline - System.nanoTime();
            Pdu pdu = received.poll(Math.max(0, remaining), TimeUnit.NANOSECONDS);
            if (pdu == null) {
                throw new AssertionError("no " + type.getSimpleName() + " within " + timeout
                        + (failures.isEmpty() ? "" : "; the connection failed: " + failures));
            }
            if (type.isInstance(pdu)) {
                return type.cast(pdu);
            }
        }
    }

    /** Waits until connectionFailed was called, and returns the first cause. */
    Throwable awaitFailure(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (failures.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("connectionFailed was not called within " + timeout);
            }
            Thread.sleep(10);
        }
        return failures.getFirst();
    }

    @Override
    public String toString() {
        return "test owner";
    }
}
