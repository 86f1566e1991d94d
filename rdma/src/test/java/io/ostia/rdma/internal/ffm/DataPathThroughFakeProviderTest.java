package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.NativeCallException;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives the hand-bound static-inline verbs (post_send, post_recv, poll_cq, req_notify_cq)
 * through a C stand-in provider that reads what arrives with the real header, so every field
 * is checked as C sees it.
 */
class DataPathThroughFakeProviderTest {
    private static Arena arena;
    private static FakeVerbs fake;
    private static DataPath.Poster poster;
    private static DataPath.Poller poller;

    @BeforeAll
    static void load() throws Exception {
        CToolchain.assumeAvailable();
        arena = Arena.ofShared();
        fake = new FakeVerbs(CToolchain.buildFakeVerbs(), arena);
        poster = new DataPath.Poster(fake.qp(), arena);
        poller = new DataPath.Poller(fake.cq(), arena);
    }

    @AfterAll
    static void unload() {
        if (arena != null) {
            arena.close();
        }
    }

    @BeforeEach
    void reset() {
        fake.voidCall("fake_reset");
    }

    @Test
    void everySendFieldCrossesIntact() {
        SendWorkRequest wr = new SendWorkRequest().wrId(0x0123456789ABCDEFL).opcode(SendOpcode.RDMA_WRITE_WITH_IMMEDIATE)
                .signaled(true).solicited(true).immediateData(0x11223344).remote(0xFEDCBA9876543210L, 0xA1B2C3D4);
        wr.scatterGather().add(0x1000L, 100, 7);
        wr.scatterGather().add(0x7FFF_FFFF_0000L, Integer.MAX_VALUE, -2);
        wr.scatterGather().add(0x3000L, 0, 0x55);

        assertEquals(0, poster.postSend(wr));

        assertEquals(1, fake.intCall("fake_last_send_qp_is_fake"));
        assertEquals(0x0123456789ABCDEFL, fake.longCall("fake_send_wr_id"));
        assertEquals(0, fake.intCall("fake_send_has_next"), "a single request has next == NULL");
        assertEquals(3, fake.intCall("fake_send_num_sge"));
        assertEquals(1, fake.intCall("fake_send_opcode"), "IBV_WR_RDMA_WRITE_WITH_IMM");
        assertEquals((1 << 1) | (1 << 2), fake.intCall("fake_send_flags"), "IBV_SEND_SIGNALED | IBV_SEND_SOLICITED");
        assertEquals(0x11223344, fake.intCall("fake_send_imm_host"), "immediate data goes big-endian");
        assertEquals(0xFEDCBA9876543210L, fake.longCall("fake_send_remote_addr"));
        assertEquals(0xA1B2C3D4, fake.intCall("fake_send_rkey"));
        assertEquals(0x1000L, fake.longCall("fake_send_sge_addr", 0));
        assertEquals(100, fake.intCall("fake_send_sge_length", 0));
        assertEquals(7, fake.intCall("fake_send_sge_lkey", 0));
        assertEquals(0x7FFF_FFFF_0000L, fake.longCall("fake_send_sge_addr", 1));
        assertEquals(Integer.MAX_VALUE, fake.intCall("fake_send_sge_length", 1));
        assertEquals(-2, fake.intCall("fake_send_sge_lkey", 1));
        assertEquals(0x55, fake.intCall("fake_send_sge_lkey", 2));
    }

    @Test
    void unsignaledReadHasNoFlags() {
        SendWorkRequest wr = new SendWorkRequest().wrId(5).opcode(SendOpcode.RDMA_READ).signaled(false);
        wr.scatterGather().add(0x2000L, 64, 9);
        assertEquals(0, poster.postSend(wr));
        assertEquals(4, fake.intCall("fake_send_opcode"), "IBV_WR_RDMA_READ");
        assertEquals(0, fake.intCall("fake_send_flags"));
        WorkCompletion[] wcs = {new WorkCompletion()};
        assertEquals(0, poller.poll(wcs, 0), "unsignaled: no completion");
    }

    @Test
    void everyReceiveFieldCrossesIntact() {
        ReceiveWorkRequest wr = new ReceiveWorkRequest().wrId(-1L);
        wr.scatterGather().add(0xABCDEF000L, 8192, 0x77);
        wr.scatterGather().add(0x10L, 1, 0x78);
        assertEquals(0, poster.postReceive(wr));
        assertEquals(-1L, fake.longCall("fake_recv_wr_id"));
        assertEquals(2, fake.intCall("fake_recv_num_sge"));
        assertEquals(0xABCDEF000L, fake.longCall("fake_recv_sge_addr", 0));
        assertEquals(8192, fake.intCall("fake_recv_sge_length", 0));
        assertEquals(0x77, fake.intCall("fake_recv_sge_lkey", 0));
        assertEquals(0x10L, fake.longCall("fake_recv_sge_addr", 1));
        assertEquals(0x78, fake.intCall("fake_recv_sge_lkey", 1));
    }

    @Test
    void everyCompletionFieldCrossesIntact() {
        fake.queueCompletion(0x8000000000000001L, 13, 129, 65536, 0xDEADBEEF, 1 << 1, 0xABCDE, 0x77);
        fake.queueCompletion(42, 5, 0, 0, 0, 0, 0x1234, 0);
        WorkCompletion[] wcs = {new WorkCompletion(), new WorkCompletion(), new WorkCompletion()};
        assertEquals(2, poller.poll(wcs, 0));

        WorkCompletion first = wcs[0];
        assertEquals(0x8000000000000001L, first.wrId());
        assertEquals(WorkCompletionStatus.RNR_RETRY_EXCEEDED, first.status());
        assertEquals(65536, first.byteLength());
        assertTrue(first.hasImmediate());
        assertEquals(0xDEADBEEF, first.immediateData());
        assertEquals(0xABCDE, first.queuePairNumber());
        assertEquals(0x77, first.vendorError());

        assertEquals(42, wcs[1].wrId());
        assertEquals(WorkCompletionStatus.FLUSH_ERROR, wcs[1].status());
        assertFalse(wcs[1].hasImmediate());
        assertEquals(0, poller.poll(wcs, 0));
    }

    @Test
    void successfulReceiveWithImmediateReportsItsOpcode() {
        fake.queueCompletion(3, 0, 129, 512, 7, 1 << 1, 0x1234, 0);
        WorkCompletion[] wcs = {new WorkCompletion()};
        assertEquals(1, poller.poll(wcs, 0));
        assertEquals(WorkCompletionOpcode.RECV_RDMA_WITH_IMMEDIATE, wcs[0].opcode());
        assertEquals(7, wcs[0].immediateData());
    }

    @Test
    void pollFillsFromTheOffsetAndStopsAtTheBatch() {
        for (int i = 0; i < DataPath.POLL_BATCH + 3; i++) {
            assertEquals(0, poster.postSend(new SendWorkRequest().wrId(i)));
        }
        WorkCompletion[] wcs = new WorkCompletion[DataPath.POLL_BATCH + 5];
        for (int i = 0; i < wcs.length; i++) {
            wcs[i] = new WorkCompletion();
        }
        assertEquals(DataPath.POLL_BATCH, poller.poll(wcs, 2));
        assertEquals(0, wcs[2].wrId());
        assertEquals(DataPath.POLL_BATCH - 1, wcs[DataPath.POLL_BATCH + 1].wrId());
        assertEquals(WorkCompletionOpcode.SEND, wcs[2].opcode());
        assertEquals(0x1234, wcs[2].queuePairNumber());
        assertEquals(3, poller.poll(wcs, 0));
    }

    @Test
    void notificationRequestPassesSolicitedOnly() {
        assertEquals(0, poller.requestNotification(true));
        assertEquals(1, fake.intCall("fake_notify_solicited"));
        assertEquals(0, poller.requestNotification(false));
        assertEquals(0, fake.intCall("fake_notify_solicited"));
        assertEquals(2, fake.intCall("fake_notify_calls"));
    }

    @Test
    void awaitReadableWaitsForDataAndTimesOut() {
        int fd = fake.intCall("fake_pipe_read_fd");
        assertTrue(fd >= 0, "pipe");
        try (Arena call = Arena.ofConfined()) {
            NativeAccess.ReadableWait readable = new NativeAccess.ReadableWait(fd, call); // one, reused by every wait
            long start = System.nanoTime();
            assertFalse(readable.await(50), "nothing written yet");
            assertTrue(System.nanoTime() - start >= 40_000_000L, "the wait lasted its timeout");
            assertEquals(1, fake.intCall("fake_pipe_write"));
            assertTrue(readable.await(1000));
            assertEquals(1, fake.intCall("fake_pipe_drain"));
            assertFalse(readable.await(0));
        }
    }

    @Test
    void errnoIsCapturedFromControlPathCalls() {
        // rdma_create_event_channel fails without /dev/infiniband; on a machine with RDMA it succeeds.
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/infiniband/rdma_cm")));
        NativeCall call = new NativeCall("rdma_create_event_channel",
                io.ostia.rdma.internal.ffm.gen.Verbs.rdma_create_event_channel$address(),
                io.ostia.rdma.internal.ffm.gen.Verbs.rdma_create_event_channel$descriptor());
        NativeCallException e = org.junit.jupiter.api.Assertions.assertThrows(NativeCallException.class, call::invokePointer);
        assertEquals("rdma_create_event_channel", e.function());
        assertTrue(e.errno() > 0, e.getMessage());
        assertEquals(NativeAccess.strerror(e.errno()), e.errnoText());
    }

    @Test
    void errorNumbersComeBackAndBecomeOneExceptionType() {
        fake.voidCall("fake_fail_post_send", 12);
        fake.voidCall("fake_fail_post_recv", 22);
        fake.voidCall("fake_fail_notify", 95);
        assertEquals(12, poster.postSend(new SendWorkRequest()));
        assertEquals(22, poster.postReceive(new ReceiveWorkRequest()));
        assertEquals(95, poller.requestNotification(false));
        NativeCallException e = NativeAccess.failure("ibv_post_send", 12);
        assertEquals("ibv_post_send failed: errno 12 (Cannot allocate memory)", e.getMessage());
        assertEquals("ibv_post_send", e.function());
        assertEquals(12, e.errno());
    }
}
