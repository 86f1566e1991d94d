package io.ostia.rdma.loopback;

import io.ostia.rdma.ConnectedPair;
import io.ostia.rdma.QueuePairState;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Work-completion faults of the loopback fabric: each one does what it says, to exactly the work it selects. */
class LoopbackCompletionFaultsTest {
    private LoopbackFabric fabric;
    private ConnectedPair pair;

    @BeforeEach
    void connect() throws InterruptedException {
        fabric = LoopbackFabric.create();
        pair = ConnectedPair.establish(fabric, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void closeAll() {
        pair.close();
        assertEquals(List.of(), fabric.openObjects());
        fabric.close();
    }

    private void postReceives(int n) {
        ReceiveWorkRequest recv = new ReceiveWorkRequest();
        for (int i = 0; i < n; i++) {
            pair.serverSide.qp.postReceive(recv.reset().wrId(100 + i).add(pair.serverSide.mr, i * 64L, 64));
        }
    }

    private void send(long wrId) {
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(wrId).add(pair.clientSide.mr, 0, 8));
    }

    private void rdmaRead(long wrId) {
        pair.clientSide.qp.postSend(new SendWorkRequest().wrId(wrId).opcode(SendOpcode.RDMA_READ)
                .remote(pair.serverSide.mr.address(), pair.serverSide.mr.rkey()).add(pair.clientSide.mr, 0, 8));
    }

    /** Every completion waiting now in the side's queue, as "wrId:status". */
    private static List<String> drain(ConnectedPair.Side side) {
        List<String> seen = new ArrayList<>();
        WorkCompletion[] one = {new WorkCompletion()};
        while (side.cq.poll(one) == 1) {
            seen.add(one[0].wrId() + ":" + one[0].status());
        }
        return seen;
    }

    @Test
    void heldCompletionsStayOutOfTheQueueAndReleaseReversed() throws Exception {
        postReceives(4);
        pair.clientSide.cq.requestNotification(false);
        fabric.holdCompletions(WorkMatch.any().on(pair.clientSide.qp).kind(WorkCompletionOpcode.SEND));
        send(1);
        send(2);
        send(3);
        assertEquals(List.of(), drain(pair.clientSide), "sender's completions are held");
        assertFalse(pair.clientSide.cq.awaitNotification(Duration.ofMillis(50)), "a held completion notifies nobody");
        assertEquals(List.of("100:SUCCESS", "101:SUCCESS", "102:SUCCESS"), drain(pair.serverSide),
                "the messages themselves arrived");
        assertEquals(3, fabric.releaseCompletions(true));
        assertTrue(pair.clientSide.cq.awaitNotification(Duration.ofSeconds(1)), "release notifies");
        assertEquals(List.of("3:SUCCESS", "2:SUCCESS", "1:SUCCESS"), drain(pair.clientSide));
        send(4);
        assertEquals(List.of("4:SUCCESS"), drain(pair.clientSide), "release ended the hold");
    }

    @Test
    void aDelayedCompletionIsOvertakenAndArrivesWhenDue() throws Exception {
        postReceives(2);
        fabric.delayCompletions(WorkMatch.any().on(pair.clientSide.qp).count(1), Duration.ofMillis(200));
        long start = System.nanoTime();
        send(1);
        send(2);
        assertEquals(List.of("2:SUCCESS"), drain(pair.clientSide), "the second overtakes the delayed first");
        pair.clientSide.cq.requestNotification(false);
        assertTrue(pair.clientSide.cq.awaitNotification(Duration.ofSeconds(2)), "the wait wakes when it falls due");
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(200).toNanos(), "not before its delay");
        assertEquals(List.of("1:SUCCESS"), drain(pair.clientSide));
    }

    @Test
    void dropLosesExactlyTheSelectedCompletion() throws Exception {
        postReceives(3);
        fabric.dropCompletions(WorkMatch.any().kind(WorkCompletionOpcode.SEND).skip(1).count(1));
        send(1);
        send(2);
        send(3);
        assertEquals(List.of("1:SUCCESS", "3:SUCCESS"), drain(pair.clientSide));
        assertEquals(3, drain(pair.serverSide).size(), "receives are not of the selected kind");
    }

    @Test
    void aFailedRequestCompletesWithTheChosenStatusAndFlushesTheRest() throws Exception {
        postReceives(2);
        fabric.failWorkRequests(WorkMatch.any().on(pair.clientSide.qp).kind(WorkCompletionOpcode.RDMA_READ).count(1),
                WorkCompletionStatus.LOCAL_QP_OPERATION_ERROR);
        send(1);
        rdmaRead(2);
        send(3);
        assertEquals(List.of("1:SUCCESS", "2:LOCAL_QP_OPERATION_ERROR", "3:FLUSH_ERROR"), drain(pair.clientSide));
        assertEquals(QueuePairState.ERROR, pair.clientSide.qp.state());
        assertEquals(QueuePairState.READY_TO_SEND, pair.serverSide.qp.state(), "the responder is not told");
    }

    @Test
    void aFailedReceiveFailsAtTheResponderAndTheSenderSeesARemoteError() throws Exception {
        fabric.failWorkRequests(WorkMatch.any().kind(WorkCompletionOpcode.RECV).skip(1).count(1),
                WorkCompletionStatus.LOCAL_LENGTH_ERROR);
        postReceives(3);
        send(1);
        send(2);
        assertEquals(List.of("100:SUCCESS", "101:LOCAL_LENGTH_ERROR", "102:FLUSH_ERROR"), drain(pair.serverSide));
        assertEquals(List.of("1:SUCCESS", "2:REMOTE_OPERATION_ERROR"), drain(pair.clientSide));
        assertEquals(QueuePairState.ERROR, pair.serverSide.qp.state());
        assertEquals(QueuePairState.ERROR, pair.clientSide.qp.state());
    }

    @Test
    void flushedCompletionsAreSelectedByTheKindOfTheirRequest() throws Exception {
        postReceives(2);
        fabric.holdCompletions(WorkMatch.any().on(pair.serverSide.qp).kind(WorkCompletionOpcode.RECV));
        pair.serverSide.qp.moveToError();
        assertEquals(List.of(), drain(pair.serverSide), "flushed receives are held as receives");
        assertEquals(2, fabric.releaseCompletions(false));
        assertEquals(List.of("100:FLUSH_ERROR", "101:FLUSH_ERROR"), drain(pair.serverSide));
    }

    @Test
    void clearingEndsEveryFault() throws Exception {
        postReceives(1);
        fabric.dropCompletions(WorkMatch.any());
        fabric.failWorkRequests(WorkMatch.any(), WorkCompletionStatus.GENERAL_ERROR);
        fabric.clearCompletionFaults();
        send(1);
        assertEquals(List.of("1:SUCCESS"), drain(pair.clientSide));
        assertEquals(List.of("100:SUCCESS"), drain(pair.serverSide));
    }

    @Test
    void badFaultsAreRefusedNamingWhatIsWrong() {
        IllegalArgumentException success = assertThrows(IllegalArgumentException.class,
                () -> fabric.failWorkRequests(WorkMatch.any(), WorkCompletionStatus.SUCCESS));
        assertTrue(success.getMessage().contains("error status"), success.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> WorkMatch.any().count(0));
        assertTrue(count.getMessage().contains("count"), count.getMessage());
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> WorkMatch.any().kind(WorkCompletionOpcode.UNKNOWN));
        assertTrue(kind.getMessage().contains("UNKNOWN"), kind.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fabric.delayCompletions(WorkMatch.any(), Duration.ofMillis(-1)));
    }
}
