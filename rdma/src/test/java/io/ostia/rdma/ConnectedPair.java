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

    /** Connects from {@code clientSource} (null: any) to a listener on {@code address}; does not accept yet. */
    public ConnectedPair(RdmaProvider provider, InetSocketAddress address, InetSocketAddress clientSource,
                         ConnectionParameters connect) throws InterruptedException {
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
        assertArrayEquals(CONNECT_DATA, request.privateData(), "connect private data");
        assertEquals(listener, request.listenId());
        server = request.id();
    }

    public static ConnectedPair establish(RdmaProvider provider, InetSocketAddress address) throws InterruptedException {
        ConnectedPair pair = new ConnectedPair(provider, address, ConnectionParameters.withPrivateData(CONNECT_DATA));
        pair.accept(ConnectionParameters.withPrivateData(ACCEPT_DATA));
        return pair;
    }

    public void accept(ConnectionParameters parameters) throws InterruptedException {
        serverSide.create(server);
        server.accept(parameters);
        serverEvents.expect(CmEventType.ESTABLISHED);
        CmEvent established = clientEvents.expect(CmEventType.ESTABLISHED);
        assertArrayEquals(ACCEPT_DATA, established.privateData(), "accept private data");
    }

    @Override
    public void close() {
        clientSide.close();
        serverSide.close();
        for (CmId id : new CmId[] {client, server, listener}) {
            if (id != null) {
                id.close();
            }
        }
        clientChannel.close();
        serverChannel.close();
        arena.close();
    }
}
