package io.ostia.rdma.loopback;

import io.ostia.rdma.ConnectedPair;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loopback fabric models an HCA: posting, executing and polling work requests allocates no
 * heap (work queue entries and completion entries are made with their queues, keys are looked up
 * without boxing, data moves without views). Measured, not timed: the heap bytes this thread
 * allocates over many round trips, against a bound far below one object per request.
 */
class LoopbackAllocationTest {
    private static final int ROUNDS = 20_000;
    /** Bytes per round trip allowed: JIT warm-up leftovers, far less than one 16-byte object per request. */
    private static final double BOUND = 1.0;

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private LoopbackFabric fabric;
    private ConnectedPair pair;

    @BeforeEach
    void connect() throws InterruptedException {
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported(),
                "this JVM cannot count the bytes a thread allocates");
        threads.setThreadAllocatedMemoryEnabled(true);
        fabric = LoopbackFabric.create();
        pair = ConnectedPair.establish(fabric, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void closeAll() {
        if (pair != null) {
            pair.close();
            assertEquals(List.of(), fabric.openObjects());
            fabric.close();
        }
    }

    @Test
    void sendsRdmaWritesReadsAndPollsAllocateNothing() {
        SendWorkRequest send = new SendWorkRequest();
        ReceiveWorkRequest receive = new ReceiveWorkRequest();
        WorkCompletion[] batch = {new WorkCompletion(), new WorkCompletion(), new WorkCompletion(), new WorkCompletion()};
        long[] moved = new long[1];
        // Warm-up rounds let the JIT compile the path (and escape-analyse what it can), then count.
        roundTrips(ROUNDS, send, receive, batch, moved);
        long thread = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(thread);
        roundTrips(ROUNDS, send, receive, batch, moved);
        long perRound = (threads.getThreadAllocatedBytes(thread) - before) / ROUNDS;
        assertEquals(2L * ROUNDS * 3, moved[0], "every work request of both runs completed");
        assertTrue(perRound <= BOUND, "the loopback fabric allocated " + perRound
                + " B per round trip (a receive, a Send, an RDMA Write and an RDMA Read, polled); at most " + BOUND);
    }

    private static void expect(int count, int polled, WorkCompletion[] batch, String side) {
        if (polled != count) {
            throw new AssertionError("the " + side + " polled " + polled + " completions, not " + count);
        }
        for (int k = 0; k < polled; k++) {
            if (!batch[k].isSuccess()) {
                throw new AssertionError("a work request failed on the " + side + ": " + batch[k]);
            }
        }
    }

    /** Each round: server posts a receive, client Sends, RDMA-Writes and RDMA-Reads; both poll. */
    private void roundTrips(int rounds, SendWorkRequest send, ReceiveWorkRequest receive, WorkCompletion[] batch,
                            long[] moved) {
        ConnectedPair.Side client = pair.clientSide;
        ConnectedPair.Side server = pair.serverSide;
        for (int i = 0; i < rounds; i++) {
            server.qp.postReceive(receive.reset().wrId(i).add(server.mr, 0, 512));
            client.qp.postSend(send.reset().wrId(i).add(client.mr, 0, 512));
            client.qp.postSend(send.reset().wrId(i).opcode(SendOpcode.RDMA_WRITE)
                    .remote(server.mr.address() + 1024, server.mr.rkey()).add(client.mr, 512, 512));
            client.qp.postSend(send.reset().wrId(i).opcode(SendOpcode.RDMA_READ)
                    .remote(server.mr.address() + 2048, server.mr.rkey()).add(client.mr, 1024, 512));
            // The fabric executes at post time: every completion is there at once.
            expect(3, client.cq.poll(batch), batch, "client");
            expect(1, server.cq.poll(batch), batch, "server");
            moved[0] += 3;
        }
    }
}
