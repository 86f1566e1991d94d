package io.ostia.rdma;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two connected endpoints on one provider: channel, id, PD, CQ, QP and one registered buffer
 * on each side. Closes everything child first.
 */
public final class ConnectedPair implements AutoCloseable {
    public static final int BUFFER = 4096;
    public static final byte[] CONNECT_DATA = {1, 2, 3, 4};
    public static final byte[] ACCEPT_DATA = {9, 8, 7};

    public final CmEventRecorder serverEvents = new CmEventRecorder();
    public final CmEventRecorder clientEvents = new CmEventRecorder();
    public final CmEventChannel serverChannel;
    public final CmEventChannel clientChannel;
    public final CmId listener;
    public final CmId client;
    public CmId server;
    public final Side clientSide = new Side();
    public final Side serverSide = new Side();
    private final Arena arena = Arena.ofShared();

    /** Resources of one side. */
    public final class Side {
        public ProtectionDomain pd;
        public CompletionQueue cq;
        public QueuePair qp;
        public MemorySegment buffer;
        public MemoryRegion mr;

        void create(CmId id) {
            pd = id.device().allocateProtectionDomain();
            cq = id.device().createCompletionQueue(64);
            qp = id.createQueuePair(pd, new QueuePairAttributes(cq, cq, 16, 16, 4, 4));
            buffer = arena.allocate(BUFFER, 64);
            mr = pd.registerMemory(buffer, EnumSet.allOf(MemoryAccess.class));
        }

        /** Polls until one completion arrives (bounded). */
        public WorkCompletion next() throws InterruptedException {
            WorkCompletion[] one = {new WorkCompletion()};
            long deadline = System.nanoTime() + CmEventRecorder.WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                if (cq.poll(one) == 1) {
                    return one[0];
                }
                Thread.sleep(1);
            }
            throw new AssertionError("no completion within " + CmEventRecorder.WAIT);
        }

        /** Asserts that no completion arrives within {@link CmEventRecorder#QUIET}. */
        public void expectNothing() throws InterruptedException {
            WorkCompletion[] one = {new WorkCompletion()};
            long deadline = System.nanoTime() + CmEventRecorder.QUIET.toNanos();
            while (System.nanoTime() < deadline) {
                assertEquals(0, cq.poll(one), () -> "unexpected completion: wr " + one[0].wrId() + " " + one[0].status());
                Thread.sleep(1);
            }
        }

        void close() {
            List<RdmaResource> order = new ArrayList<>();
            Collections.addAll(order, qp, mr, cq, pd);
            for (RdmaResource r : order) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    public ConnectedPair(RdmaProvider provider, InetSocketAddress address, ConnectionParameters connect) throws InterruptedException {
        this(provider, address, null, connect);
    }

    /**
     * Connects from {@code clientSource} (null: any) to a listener on {@code address}; does not accept yet.
     * If any step fails, closes what it made before it throws, so that later tests' leak checks
     * see only their own objects.
     */
    public ConnectedPair(RdmaProvider provider, InetSocketAddress address, InetSocketAddress clientSource,
                         ConnectionParameters connect) throws InterruptedException {
        try {
            serverChannel = provider.createEventChannel(serverEvents);
            clientChannel = provider.createEventChannel(clientEvents);
            listener = serverChannel.createId();
            listener.bind(address);
            listener.listen(8);
            client = clientChannel.createId();
            client.resolveAddress(clientSource, listener.localAddress(), Duration.ofSeconds(2));
            clientEvents.expect(CmEventType.ADDR_RESOLVED);
            client.resolveRoute(Duration.ofSeconds(2));
            clientEvents.expect(CmEventType.ROUTE_RESOLVED);
            clientSide.create(client);
            client.connect(connect);
            CmEvent request = serverEvents.expect(CmEventType.CONNECT_REQUEST);
            server = request.id();
            assertDelivered(connect.privateData(), ConnectionParameters.MAX_CONNECT_PRIVATE_DATA, request, "connect private data");
            assertEquals(listener, request.listenId());
        } catch (RuntimeException | Error | InterruptedException e) {
            closeAfter(e);
            throw e;
        }
    }

    /**
     * Asserts that the private data arrived as rdma_cm delivers it on InfiniBand and RoCE: the
     * bytes sent, then zeros up to the size of the CM message's private-data field.
     */
    public static void assertDelivered(byte[] sent, int messageSize, CmEvent event, String what) {
        byte[] expected = java.util.Arrays.copyOf(sent, messageSize);
        assertArrayEquals(expected, event.privateData(), what + " as delivered in " + event);
    }

    public static ConnectedPair establish(RdmaProvider provider, InetSocketAddress address) throws InterruptedException {
        ConnectedPair pair = new ConnectedPair(provider, address, ConnectionParameters.withPrivateData(CONNECT_DATA));
        try {
            pair.accept(ConnectionParameters.withPrivateData(ACCEPT_DATA));
        } catch (RuntimeException | Error | InterruptedException e) {
            pair.closeAfter(e);
            throw e;
        }
        return pair;
    }

    public void accept(ConnectionParameters parameters) throws InterruptedException {
        serverSide.create(server);
        server.accept(parameters);
        CmEvent passive = serverEvents.expect(CmEventType.ESTABLISHED);
        assertEquals(0, passive.privateData().length, "the passive side's ESTABLISHED carries no private data");
        CmEvent established = clientEvents.expect(CmEventType.ESTABLISHED);
        assertDelivered(parameters.privateData(), ConnectionParameters.MAX_ACCEPT_PRIVATE_DATA, established, "accept private data");
    }

    /** Closes what was made after {@code failure}; what fails to close is added to it as suppressed. */
    private void closeAfter(Throwable failure) {
        try {
            close();
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }

    /** Closes everything child first; tries every step, throws the first failure with the rest suppressed. */
    @Override
    public void close() {
        List<Runnable> steps = new ArrayList<>();
        steps.add(clientSide::close);
        steps.add(serverSide::close);
        for (RdmaResource r : new RdmaResource[] {client, server, listener, clientChannel, serverChannel}) {
            if (r != null) {
                steps.add(r::close);
            }
        }
        steps.add(arena::close);
        RuntimeException first = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
