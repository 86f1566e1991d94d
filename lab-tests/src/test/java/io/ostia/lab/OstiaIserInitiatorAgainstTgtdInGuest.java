package io.ostia.lab;

import io.ostia.api.BlockDevice;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.text.DiscoveredTarget;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.rdma.RdmaProviders;
import io.ostia.testing.TgtdServer;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.iser.internal.IserTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Ostia's iSER initiator on the native provider against Linux's tgtd and its iSER portal on the
 * lab guest's Soft-RoCE device: SendTargets, login in iSER-assisted mode, many writes and reads in
 * flight at once (tgtd fetches the writes with RDMA Reads and answers the reads with RDMA Writes),
 * every byte verified, logout (tgtd keeps no I_T nexus), and every native object freed.
 *
 * <p>tgt's iSER login answers ExpCmdSN one past the login's CmdSN and MaxCmdSN at it, while its
 * session waits for the login's CmdSN: the initiator numbers its first command from the login,
 * as RFC 7143 11.12.8 says ({@code IserTgtdLoginNumbersTest} reproduces it on the loopback fabric).
 * A failure carries the end of tgtd's log.
 */
class OstiaIserInitiatorAgainstTgtdInGuest {

    private static final String TARGET = "iqn.2026-12.io.ostia.lab:tgtd-iser";
    private static final String INITIATOR = "iqn.2026-12.io.ostia.lab:ostia-iser";
    private static final int DEPTH = 32;
    private static final int IO = 128 * 1024;

    @TempDir
    Path scratch;
    private TgtdServer tgtd;
    private String address;

    @BeforeEach
    void startTgtd() throws Exception {
        address = Rxe.address();
        TgtdServer.unavailability().ifPresent(why -> assumeTrue(false, "tgtd cannot run: " + why));
        tgtd = TgtdServer.startWithIser(scratch.resolve("tgtd"));
        TgtdServer.Target target = tgtd.createTarget(TARGET);
        tgtd.allowInitiator(target, INITIATOR);
        tgtd.addLun(target, 1, (long) DEPTH * IO);
    }

    /** After logout tgtd drops the session's I_T nexus; it does so on its own thread, so wait (bounded). */
    private void awaitNoNexus() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String shown = tgtd.tgtadm("--mode", "target", "--op", "show");
        while (shown.contains("I_T nexus:") && System.nanoTime() - deadline < 0) {
            Thread.sleep(100);
            shown = tgtd.tgtadm("--mode", "target", "--op", "show");
        }
        String last = shown;
        assertFalse(last.contains("I_T nexus:"), () -> "tgtd still has a session 10 s after logout:\n" + last);
    }

    @AfterEach
    void stopTgtd() {
        if (tgtd != null) {
            tgtd.close();
        }
    }

    @Test
    void verifiedIoWithManyCommandsInFlight() throws Exception {
        try {
            verifiedIo();
        } catch (Exception | AssertionError e) {
            String log = tgtd.log();
            e.addSuppressed(new AssertionError("the end of tgtd's log:\n" + log.substring(Math.max(0, log.length() - 6000))));
            throw e;
        }
    }

    private void verifiedIo() throws Exception {
        List<String> objectsBefore = Rxe.provider().openObjects();
        IserTransport transport = new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.NATIVE),
                () -> { });
        try (ClosableInitiator initiator = Initiators.create(List.of(transport));
             Arena arena = Arena.ofShared()) {
            SessionOptions.Builder options = SessionOptions.builder().portal(address, tgtd.iserPort())
                    .initiatorName(INITIATOR).transports("iser").queueDepth(DEPTH);
            List<DiscoveredTarget> found = initiator.discover(options.build());
            assertTrue(found.stream().anyMatch(t -> t.name().equals(TARGET)), () -> "tgtd's SendTargets: " + found);

            try (Session session = initiator.login(options.targetName(TARGET).build())) {
                assertEquals("iser", session.transport());
                assertEquals("Yes", session.negotiatedParameters().get("RDMAExtensions"),
                        session.negotiatedParameters()::toString);
                // tgtd's LUN 0 is its controller; the disk is LUN 1.
                BlockDevice lun = session.open(1);
                int blocksPerIo = IO / lun.blockSize();

                MemorySegment[] written = new MemorySegment[DEPTH];
                List<CompletableFuture<Void>> writes = new ArrayList<>();
                for (int i = 0; i < DEPTH; i++) {
                    written[i] = arena.allocate(IO, 4096);
                    for (int b = 0; b < IO; b += 4) {
                        written[i].set(ValueLayout.JAVA_INT_UNALIGNED, b, i * 0x01000193 ^ b);
                    }
                    writes.add(lun.writeAsync((long) i * blocksPerIo, written[i]));
                }
                CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

                MemorySegment[] read = new MemorySegment[DEPTH];
                List<CompletableFuture<Void>> reads = new ArrayList<>();
                for (int i = 0; i < DEPTH; i++) {
                    read[i] = arena.allocate(IO, 4096);
                    reads.add(lun.readAsync((long) i * blocksPerIo, read[i]));
                }
                CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                for (int i = 0; i < DEPTH; i++) {
                    assertArrayEquals(written[i].toArray(ValueLayout.JAVA_BYTE), read[i].toArray(ValueLayout.JAVA_BYTE),
                            "the " + IO + " bytes at block " + (long) i * blocksPerIo + " read back from tgtd as written");
                }
            }
            awaitNoNexus();
        } finally {
            transport.close();
        }
        assertEquals(objectsBefore, Rxe.provider().openObjects(), "logout and leaving freed every native RDMA object");
    }
}
