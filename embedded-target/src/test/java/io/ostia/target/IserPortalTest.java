package io.ostia.target;

import io.ostia.api.iser.IserHeader;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.rdma.loopback.WorkMatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded target's iSER portal on a loopback RDMA fabric, driven by a raw iSER initiator:
 * login, RDMA-Write reads and RDMA-Read writes with verified bytes and many commands in flight,
 * logout, and every queue pair, region and CM id freed however the connection ends.
 */
class IserPortalTest {

    private static final String IQN = "iqn.2026-01.io.ostia:iser-disk";
    private static final int BLOCKS = 32; // 16 KiB per command
    private static final int IN_FLIGHT = 48;

    private LoopbackFabric fabric;
    private IscsiTarget target;
    private InetSocketAddress portal;
    /** What the fabric holds with the portal listening and nothing connected. */
    private List<String> listening;

    @BeforeEach
    void start() throws Exception {
        fabric = LoopbackFabric.create();
        target = IscsiTarget.builder().iserPortal("127.0.0.1", 0, fabric).logoutGrace(Duration.ZERO)
                .target(IQN, t -> t.ramLun(16 << 20)).build().start();
        portal = target.addresses().getFirst();
        listening = fabric.openObjects();
    }

    @AfterEach
    void stop() {
        target.close();
        assertEquals(List.of(), fabric.openObjects(), "the target closed every RDMA object");
        fabric.close();
        assertEquals(0, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("ostia-target-iser")).count(), "iSER connection threads left");
    }

    /**
     * Shorter than the target's 5 s bound on the flush of a dying connection: a work request the
     * target lost count of fails the test rather than being waited out.
     */
    private static final Duration FREED_WITHIN = Duration.ofSeconds(3);

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + FREED_WITHIN.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "not within " + FREED_WITHIN + ": " + what);
            Thread.sleep(5);
        }
    }

    /** Only the client's objects and the listening portal are left: the target freed the connection. */
    private void awaitTargetSideFreed(IserTestInitiator client) throws InterruptedException {
        client.close();
        awaitTrue("the target frees the connection's QP, regions, CQ, PD and CM id",
                () -> fabric.openObjects().equals(listening));
        awaitTrue("the session ends", () -> target.sessionCount() == 0);
    }

    private static void fill(MemorySegment s, long seed) {
        for (long i = 0; i < s.byteSize(); i += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, i, seed * 0x9E3779B97F4A7C15L + i);
        }
    }

    /** Collects {@code count} SCSI responses in any order; every status must be GOOD. */
    private static void collectGood(IserTestInitiator client, Set<Integer> tags) throws Exception {
        Set<Integer> open = new HashSet<>(tags);
        while (!open.isEmpty()) {
            Pdu pdu = client.receive();
            ScsiResponse r = (ScsiResponse) pdu;
            assertEquals(0, r.status(), "status of task 0x" + Integer.toHexString(r.initiatorTaskTag()));
            assertEquals(0, r.residualCount(), "residual");
            assertTrue(open.remove(r.initiatorTaskTag()), "response for an unknown task " + r);
            client.expStatSN = r.statSN() + 1;
        }
    }

    @Test
    void readsByRdmaWriteAndWritesByRdmaReadWithManyInFlight() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0001L)) {
            LoginResponse login = client.login(IQN, IserTestInitiator.iserKeys());
            assertEquals(0, login.statusClass(), "login status");
            assertEquals("Yes", client.negotiated.get("RDMAExtensions"));
            assertEquals("8192", client.negotiated.get("TargetRecvDataSegmentLength"));
            assertEquals("None", client.negotiated.get("HeaderDigest"));

            int bytes = BLOCKS * 512;
            MemorySegment written = client.data.asSlice(0, (long) bytes * IN_FLIGHT);
            fill(written, 7);
            byte[] expected = written.toArray(ValueLayout.JAVA_BYTE);
            Set<Integer> tags = new HashSet<>();
            for (int i = 0; i < IN_FLIGHT; i++) {
                // A third all by RDMA Read, a third with some immediate data, a third all immediate.
                int immediate = switch (i % 3) {
                    case 0 -> 0;
                    case 1 -> 4096;
                    default -> 8192;
                };
                int blocks = immediate == 8192 ? 16 : BLOCKS;
                tags.add(client.write((long) i * BLOCKS, blocks, (long) i * bytes, immediate));
            }
            collectGood(client, tags);

            written.fill((byte) 0);
            tags.clear();
            for (int i = 0; i < IN_FLIGHT; i++) {
                int blocks = i % 3 == 2 ? 16 : BLOCKS;
                tags.add(client.read((long) i * BLOCKS, blocks, (long) i * bytes));
            }
            collectGood(client, tags);
            for (int i = 0; i < IN_FLIGHT; i++) {
                int length = (i % 3 == 2 ? 16 : BLOCKS) * 512;
                byte[] got = client.data.asSlice((long) i * bytes, length).toArray(ValueLayout.JAVA_BYTE);
                byte[] want = Arrays.copyOfRange(expected, i * bytes, i * bytes + length);
                assertTrue(Arrays.equals(want, got), "bytes of command " + i + " read back as written");
            }

            LogoutResponse logout = client.logout();
            assertEquals(LogoutResponse.Response.CLOSED_SUCCESSFULLY, logout.response());
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void aConnectionDroppedMidIoFreesEverything() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0002L)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            fill(client.data, 3);
            for (int i = 0; i < 16; i++) {
                client.write((long) i * BLOCKS, BLOCKS, (long) i * BLOCKS * 512, 0);
                client.read((long) i * BLOCKS, BLOCKS, (long) (i + 16) * BLOCKS * 512);
            }
            fabric.dropConnection(client.id);
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void removingTheDeviceUnderIoFreesEverything() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0008L)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            fill(client.data, 5);
            for (int i = 0; i < 8; i++) {
                client.write((long) i * BLOCKS, BLOCKS, (long) i * BLOCKS * 512, 0);
            }
            fabric.removeDevice(LoopbackFabric.DEFAULT_DEVICE);
            client.expect(CmEventType.DEVICE_REMOVAL);
            client.close();
            // The listener too: on rxe the device (and `rdma link delete`) waits for every id on it.
            awaitTrue("the target frees the connection and its listener on DEVICE_REMOVAL",
                    () -> fabric.openObjects().size() == listening.size() - 1);
            awaitTrue("the session ends", () -> target.sessionCount() == 0);
        }
    }

    @Test
    void aCompletionErrorUnderIoClosesTheConnectionAndFreesEverything() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0003L)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            // The target's next RDMA Read fails as a bad remote key would make it.
            fabric.failWorkRequests(WorkMatch.any().kind(WorkCompletionOpcode.RDMA_READ).count(1),
                    WorkCompletionStatus.REMOTE_ACCESS_ERROR);
            client.write(0, BLOCKS, 0, 0);
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void aFailedUnsignaledRdmaWriteOfReadDataStillClosesTheConnectionPromptly() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_000bL)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            collectGood(client, Set.of(client.read(0, BLOCKS, 0))); // a read whose unsignaled write succeeds
            // The next read's RDMA Write, posted unsignaled, fails: an error completes it all the
            // same (as on rxe), and the target, which never counted it, must not wait out its flush bound.
            fabric.failWorkRequests(WorkMatch.any().kind(WorkCompletionOpcode.RDMA_WRITE).count(1),
                    WorkCompletionStatus.REMOTE_ACCESS_ERROR);
            client.read(0, BLOCKS, 0);
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void aWriteAbortedWhileItsRdmaReadIsOutNeverReachesTheLun() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0009L)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            fill(client.data.asSlice(0, BLOCKS * 512), 11);
            // The target's RDMA Read moves the data, but it does not learn so until the release.
            fabric.holdCompletions(WorkMatch.any().kind(WorkCompletionOpcode.RDMA_READ));
            int write = client.write(0, BLOCKS, 0, 0);
            client.send(new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK, 0, client.itt++,
                    write, client.cmdSN, client.expStatSN, client.cmdSN - 1, 0), IserHeader.PLAIN);
            TaskManagementResponse aborted = (TaskManagementResponse) client.receive();
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE, aborted.response());
            client.expStatSN = aborted.statSN() + 1;
            assertEquals(1, fabric.releaseCompletions(false));

            client.data.asSlice(0, BLOCKS * 512).fill((byte) 0x77);
            collectGood(client, Set.of(client.read(0, BLOCKS, 0)));
            assertTrue(Arrays.equals(new byte[BLOCKS * 512], client.data.asSlice(0, BLOCKS * 512)
                    .toArray(ValueLayout.JAVA_BYTE)), "the aborted write left the blocks as they were (zero)");
            assertEquals(LogoutResponse.Response.CLOSED_SUCCESSFULLY, client.logout().response());
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void aReadWithoutReadStagFailsTheConnection() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0004L)) {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            client.send(new io.ostia.api.pdu.ScsiCommand(false, true, true, false,
                    io.ostia.api.pdu.ScsiCommand.TaskAttribute.SIMPLE, 0, client.itt++, 512, client.cmdSN++,
                    client.expStatSN, IserTestInitiator.cdb10(false, 0, 1), java.util.OptionalInt.empty(), Pdu.NO_DATA),
                    IserHeader.PLAIN);
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void anUnknownIserOpcodeFailsTheConnection() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0005L)) {
            MemorySegment raw = client.sendBuffer();
            raw.asSlice(0, 28 + 48).fill((byte) 0);
            raw.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x50); // opcode 5 does not exist
            client.sendRaw(28 + 48);
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void aLoginWithoutRdmaExtensionsIsRefused() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0006L)) {
            Map<String, String> keys = new HashMap<>(IserTestInitiator.iserKeys());
            keys.remove("RDMAExtensions");
            LoginResponse r = client.login(IQN, keys);
            assertEquals(2, r.statusClass(), "an initiator error");
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    /** As Linux's ib_iser discovers: open-iscsi offers RDMAExtensions only in normal sessions. */
    @Test
    void aDiscoverySessionWithoutRdmaExtensionsIsServed() throws Exception {
        try (IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_000aL)) {
            Map<String, String> keys = new HashMap<>(IserTestInitiator.iserKeys());
            keys.remove("RDMAExtensions");
            keys.remove("InitiatorRecvDataSegmentLength");
            assertEquals(0, client.discoveryLogin(keys).statusClass(), "a discovery session is admitted");
            assertEquals(IQN, client.sendTargets().get("TargetName"));
            assertEquals(LogoutResponse.Response.CLOSED_SUCCESSFULLY, client.logout().response());
            client.expect(CmEventType.DISCONNECTED);
            awaitTargetSideFreed(client);
        }
    }

    @Test
    void closingTheTargetUnderALiveSessionFreesEverything() throws Exception {
        IserTestInitiator client = new IserTestInitiator(fabric, portal, 0x23_0000_0007L);
        try {
            assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass());
            client.read(0, BLOCKS, 0);
            target.close();
            client.expect(CmEventType.DISCONNECTED);
        } finally {
            client.close();
        }
    }
}
