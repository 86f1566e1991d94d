package io.ostia.target;

import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public builder API, LUN kinds, several sessions at once, and what close() releases. */
class IscsiTargetTest {

    /** Open sockets of this JVM (Linux: /proc/self/fd links to socket:[inode]). */
    private static long openSockets() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed while listing
                }
            }).count();
        }
    }

    @Test
    void builderRejectsBadDefinitionsWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IscsiTarget.builder().target("disk1", t -> t.ramLun(1 << 20)));
        assertTrue(e.getMessage().contains("not an iSCSI name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LunSpec.ram(1000));
        assertTrue(e.getMessage().contains("multiple of the block size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LunSpec.ram(1 << 20).withBlockSize(1024));
        assertTrue(e.getMessage().contains("512 or 4096"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> IscsiTarget.builder().target("iqn.2026-01.io.ostia:x", t -> t.ramLun(1 << 20).lun(0, LunSpec.ram(1 << 20))));
        assertTrue(e.getMessage().contains("defined twice"), e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> IscsiTarget.builder().portal("127.0.0.1", 0).target("iqn.2026-01.io.ostia:x", t -> { }).build());
        assertTrue(s.getMessage().contains("has no LUN"), s.getMessage());
        s = assertThrows(IllegalStateException.class,
                () -> IscsiTarget.builder().target("iqn.2026-01.io.ostia:x", t -> t.ramLun(1 << 20)).build());
        assertTrue(s.getMessage().contains("no portal"), s.getMessage());
    }

    /** The settings check their own values, once, whichever way they are set. */
    @Test
    void builderRejectsBadSettingsNamingTheValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IscsiTarget.builder().loginTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("timeouts must be positive: PT0S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IscsiTarget.builder().dataOutTimeout(Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().contains("timeouts must be positive") && e.getMessage().contains("PT-1S"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IscsiTarget.builder().maxConnections(0, 256));
        assertTrue(e.getMessage().contains("connection limits must be at least 1: maxConnections 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IscsiTarget.builder().maxConnections(8, 0));
        assertTrue(e.getMessage().contains("maxConnectionsPerAddress 0"), e.getMessage());
    }

    @Test
    void aPortalThatCannotBindFailsStartAndLeavesNothingRunning() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            IscsiTarget target = IscsiTarget.builder()
                    .portal("127.0.0.1", taken.getLocalPort())
                    .target("iqn.2026-01.io.ostia:busy", t -> t.ramLun(1 << 20))
                    .build();
            IOException e = assertThrows(IOException.class, target::start);
            assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(Threads.named("ostia-target").isEmpty(), Threads.named("ostia-target").toString());
            target.close();
        }
    }

    @Test
    void aConnectionThatNeverLogsInIsClosedAfterTheLoginTimeout() throws IOException {
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .loginTimeout(java.time.Duration.ofMillis(300))
                .target("iqn.2026-01.io.ostia:idle", t -> t.ramLun(1 << 20))
                .build().start();
             TestInitiator silent = new TestInitiator(target.port(), 0x500004)) {
            long start = System.nanoTime();
            assertTrue(silent.closedByTarget(), "a silent connection must not hold a thread for ever");
            assertTrue(System.nanoTime() - start < 4_000_000_000L);
        }
    }

    @Test
    void discoveryChapGuardsSendTargets() throws IOException {
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .discoveryChap(io.ostia.api.ChapCredentials.oneWay("finder", "finder-secret-1"))
                .target("iqn.2026-01.io.ostia:hidden", t -> t.ramLun(1 << 20))
                .build().start();
             TestInitiator i = new TestInitiator(target.port(), 0x500003)) {
            assertEquals("iscsi://127.0.0.1:" + target.port() + "/iqn.2026-01.io.ostia:hidden/0",
                    target.url("iqn.2026-01.io.ostia:hidden", 0));
            LoginResponse r = i.loginStep(io.ostia.api.pdu.LoginStage.SECURITY_NEGOTIATION,
                    io.ostia.api.pdu.LoginStage.FULL_FEATURE_PHASE, true, Map.of("InitiatorName", TestInitiator.NAME,
                            "SessionType", "Discovery", "AuthMethod", "None"));
            assertEquals(2, r.statusClass());
            assertEquals(1, r.statusDetail(), "discovery without the required CHAP is an authentication failure");
        }
    }

    @Test
    void fileLunPersistsWritesAndReadOnlyLunRefusesThem(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("disk.img");
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x5e);
        String iqn = "iqn.2026-01.io.ostia:file";
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(iqn, t -> t.lun(0, LunSpec.file(file, 1 << 20).withBlockSize(4096)))
                .build().start();
             TestInitiator i = new TestInitiator(target.port(), 0x500001)) {
            assertEquals(0, i.login(iqn, Map.of()).statusClass());
            var write = i.command(Cdb.write10(3, 1), false, true, 4096)
                    .withImmediateData(java.lang.foreign.MemorySegment.ofArray(data), true);
            assertEquals(0, i.complete(write).status());
            assertEquals(0, i.complete(i.command(Cdb.synchronizeCache10(), false, false, 0)).status());
        }
        byte[] onDisk = Arrays.copyOfRange(Files.readAllBytes(file), 3 * 4096, 4 * 4096);
        assertArrayEquals(data, onDisk, "the write reached the file");

        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(iqn, t -> t.lun(0, LunSpec.file(file, 0).withBlockSize(4096).withReadOnly(true)))
                .build().start();
             TestInitiator i = new TestInitiator(target.port(), 0x500002)) {
            assertEquals(0, i.login(iqn, Map.of("MaxRecvDataSegmentLength", "1048576")).statusClass());
            TestInitiator.Result read = i.complete(i.command(Cdb.read10(3, 1), true, false, 4096));
            assertArrayEquals(data, read.data());
            // 768 KiB in one command: larger than the target's Data-In buffer and the PDU limit above it.
            TestInitiator.Result whole = i.complete(i.command(Cdb.read10(0, 192), true, false, 192 * 4096));
            assertEquals(0, whole.status());
            assertArrayEquals(Arrays.copyOf(Files.readAllBytes(file), 192 * 4096), whole.data());
            var write = i.command(Cdb.write10(3, 1), false, true, 4096)
                    .withImmediateData(java.lang.foreign.MemorySegment.ofArray(data), true);
            TestInitiator.Result refused = i.complete(write);
            assertEquals(2, refused.status());
            SenseData sense = SenseData.decode(refused.data(), 0, refused.data().length);
            assertEquals(SenseKey.DATA_PROTECT, sense.key());
            assertEquals(AdditionalSense.WRITE_PROTECTED, sense.additional());
        }
    }

    @Test
    void severalTargetsAndSessionsAtOnceThenEverythingIsReleased() throws Exception {
        long socketsBefore = openSockets();
        int threadsBefore = Threads.named("ostia-target").size();
        String[] names = {"iqn.2026-01.io.ostia:a", "iqn.2026-01.io.ostia:b", "iqn.2026-01.io.ostia:c"};
        IscsiTarget.Builder builder = IscsiTarget.builder().portal("127.0.0.1", 0).portal("127.0.0.1", 0);
        for (String name : names) {
            builder.target(name, t -> t.ramLun(4 << 20).ramLun(4 << 20));
        }
        IscsiTarget target = builder.build().start();
        assertEquals(2, target.addresses().size());
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            Future<?>[] runs = new Future<?>[6];
            for (int n = 0; n < runs.length; n++) {
                int which = n;
                int port = target.addresses().get(n % 2).getPort();
                runs[n] = pool.submit(() -> {
                    try (TestInitiator i = new TestInitiator(port, 0x600000 + which)) {
                        LoginResponse r = i.login(names[which % names.length], Map.of());
                        assertEquals(0, r.statusClass());
                        byte[] block = new byte[512];
                        Arrays.fill(block, (byte) which);
                        for (int k = 0; k < 50; k++) {
                            var write = i.command(Cdb.write10(which * 100 + k, 1), false, true, 512)
                                    .withImmediateData(java.lang.foreign.MemorySegment.ofArray(block), true);
                            assertEquals(0, i.complete(write).status());
                            assertArrayEquals(block,
                                    i.complete(i.command(Cdb.read10(which * 100 + k, 1), true, false, 512)).data());
                        }
                        return null;
                    }
                });
            }
            for (Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdownNow();
        }
        target.close();
        assertEquals(0, target.sessionCount());
        assertEquals(threadsBefore, Threads.named("ostia-target").size(), Threads.named("ostia-target").toString());
        assertTrue(openSockets() <= socketsBefore, "sockets left open: " + openSockets() + " > " + socketsBefore);
    }
}
