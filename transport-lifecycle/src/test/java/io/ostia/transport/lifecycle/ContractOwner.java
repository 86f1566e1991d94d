package io.ostia.transport.lifecycle;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The contract's session-layer stand-in: writes every owner call into a shared ordered event
 * log as "{@code <name> <call>}" and can run an action inside a callback.
 */
public final class ContractOwner implements ConnectionOwner {

    private final String name;
    private final List<String> events;
    final LinkedBlockingQueue<Pdu> received = new LinkedBlockingQueue<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    final List<String> callbackThreads = new CopyOnWriteArrayList<>();
    volatile Consumer<Pdu> onPdu = pdu -> { };
    volatile Consumer<IscsiTransport> onLeaving = transport -> { };

    ContractOwner(String name, List<String> events) {
        this.name = name;
        this.events = events;
    }

    @Override
    public void pduReceived(Pdu pdu) {
        callbackThreads.add(Thread.currentThread().getName());
        events.add(name + " received " + pdu.opcode());
        onPdu.accept(pdu);
        received.add(pdu);
    }

    @Override
    public void commandWindowUpdate(int expCmdSN, int maxCmdSN) {
        callbackThreads.add(Thread.currentThread().getName());
    }

    @Override
    public int expectedStatSN() {
        return 0;
    }

    @Override
    public void connectionFailed(Throwable cause) {
        callbackThreads.add(Thread.currentThread().getName());
        failures.add(cause);
        events.add(name + " failed");
    }

    @Override
    public void transportLeaving(IscsiTransport transport) {
        events.add(name + " told leaving");
        onLeaving.accept(transport);
    }

    /** The next PDU received, or an assertion error after {@code timeoutMillis}. */
    Pdu next(long timeoutMillis) throws InterruptedException {
        Pdu pdu = received.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (pdu == null) {
            throw new AssertionError(name + " received no PDU within " + timeoutMillis + " ms"
                    + (failures.isEmpty() ? "" : "; its connection failed: " + failures));
        }
        return pdu;
    }

    @Override
    public String toString() {
        return "contract owner " + name;
    }
}
