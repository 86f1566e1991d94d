package io.ostia.transport.iser.internal;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A session layer's side that records every call, with the thread it came on. */
class RecordingOwner implements ConnectionOwner {
    /** Where leaving and failures are also noted, in order, with other events a test records. */
    private final List<String> journal;
    final LinkedBlockingQueue<Pdu> pdus = new LinkedBlockingQueue<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final List<IscsiTransport> leaving = new CopyOnWriteArrayList<>();

    RecordingOwner() {
        this(new CopyOnWriteArrayList<>());
    }

    RecordingOwner(List<String> journal) {
        this.journal = journal;
    }

    @Override
    public void pduReceived(Pdu pdu) {
        threads.add(Thread.currentThread().getName());
        pdus.add(pdu);
    }

    @Override
    public void commandWindowUpdate(int expCmdSN, int maxCmdSN) {
    }

    @Override
    public int expectedStatSN() {
        return 0;
    }

    @Override
    public void connectionFailed(Throwable cause) {
        threads.add(Thread.currentThread().getName());
        failures.add(cause);
        journal.add("failed");
    }

    @Override
    public void transportLeaving(IscsiTransport transport) {
        leaving.add(transport);
        journal.add("leaving");
    }

    Pdu next() throws InterruptedException {
        Pdu pdu = pdus.poll(5, TimeUnit.SECONDS);
        if (pdu == null) {
            throw new AssertionError("no PDU reached the owner within 5 s");
        }
        return pdu;
    }

    void awaitFailure() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (failures.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
