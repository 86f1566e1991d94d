package io.ostia.target;

import io.ostia.api.ChapCredentials;
import io.ostia.testing.ExternalTool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** libiscsi's command-line tools against the embedded target (skipped without libiscsi-bin). */
class LibiscsiToolsTest {

    private static final String DISK = "iqn.2026-01.io.ostia:tools";
    private static final String FOUR_K = "iqn.2026-01.io.ostia:tools-4k";
    private static final String SECURE = "iqn.2026-01.io.ostia:tools-chap";
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);
    private static IscsiTarget target;
    private static String portal;

    @BeforeAll
    static void start() throws IOException {
        target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(DISK, t -> t.ramLun(32 << 20).ramLun(8 << 20))
                .target(FOUR_K, t -> t.lun(0, LunSpec.ram(64L << 20).withBlockSize(4096)))
                .build()
                .start();
        portal = "127.0.0.1:" + target.port();
    }

    @AfterAll
    static void stop() {
        target.close();
    }

    private static void requireTool(String tool) {
        var missing = ExternalTool.missing("libiscsi-bin", tool);
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.get());
    }

    private static String run(String... command) {
        return ExternalTool.run(TOOL_TIMEOUT, List.of(command)).requireSuccess().output();
    }

    @Test
    void iscsiLsDiscoversEveryTargetAndLun() {
        requireTool("iscsi-ls");
        String out = run("iscsi-ls", "-s", "iscsi://" + portal);
        assertTrue(out.contains("Target:" + DISK + " Portal:" + portal + ",1"), out);
        assertTrue(out.contains("Target:" + FOUR_K), out);
        // iscsi-ls prints the last LBA times the block size, in whole MiB: 31M for 32 MiB.
        assertTrue(out.matches("(?s).*Lun:0\\s+Type:DIRECT_ACCESS \\(Size:3[12]M\\).*"), out);
        assertTrue(out.matches("(?s).*Lun:1\\s+Type:DIRECT_ACCESS \\(Size:[78]M\\).*"), out);
    }

    @Test
    void iscsiInqReadsStandardAndVpdPages() {
        requireTool("iscsi-inq");
        String url = "iscsi://" + portal + "/" + DISK + "/0";
        String standard = run("iscsi-inq", url);
        assertTrue(standard.contains("Vendor:OSTIA"), standard);
        assertTrue(standard.contains("Product:EMBEDDED TARGET"), standard);
        assertTrue(standard.contains("Peripheral Device Type:DIRECT_ACCESS"), standard);
        String pages = run("iscsi-inq", "-e", "1", url);
        for (String page : List.of("0x00 SUPPORTED_VPD_PAGES", "0x80 UNIT_SERIAL_NUMBER", "0x83 DEVICE_IDENTIFICATION",
                "0xb0 BLOCK_LIMITS", "0xb1 BLOCK_DEVICE_CHARACTERISTICS", "0xb2 LOGICAL_BLOCK_PROVISIONING")) {
            assertTrue(pages.contains("Page:" + page), pages);
        }
        String serial = run("iscsi-inq", "-e", "1", "-c", "128", url);
        assertTrue(serial.matches("(?s).*Unit Serial Number:\\[[0-9A-F]+].*"), serial);
        String identification = run("iscsi-inq", "-e", "1", "-c", "131", url);
        assertTrue(identification.contains("Designator Type:(3) NAA"), identification);
        assertTrue(identification.contains("Designator:[" + DISK + "]"), identification);
        String limits = run("iscsi-inq", "-e", "1", "-c", "176", url);
        assertTrue(limits.contains("maximum compare and write length:64"), limits);
    }

    @Test
    void iscsiReadCapacity16ReportsGeometry() {
        requireTool("iscsi-readcapacity16");
        String out = run("iscsi-readcapacity16", "iscsi://" + portal + "/" + FOUR_K + "/0");
        assertTrue(out.contains("LOGICAL BLOCK LENGTH IN BYTES:4096"), out);
        assertTrue(out.contains("RETURNED LOGICAL BLOCK ADDRESS:" + ((64L << 20) / 4096 - 1)), out);
        assertTrue(out.contains("Total size:" + (64L << 20)), out);
    }

    @Test
    void chapLoginThroughTheUrl() throws IOException {
        requireTool("iscsi-inq");
        try (IscsiTarget secured = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(SECURE, t -> t.ramLun(4 << 20).chap(ChapCredentials.oneWay("tooluser", "tool-secret-123")))
                .build()
                .start()) {
            chapLogins("127.0.0.1:" + secured.port());
        }
    }

    @Test
    void iscsiLsListsAChapProtectedTarget() throws IOException {
        // iscsi-ls offers AuthMethod=CHAP,None for discovery and, given None, repeats InitiatorName.
        requireTool("iscsi-ls");
        try (IscsiTarget secured = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(SECURE, t -> t.ramLun(4 << 20).chap(ChapCredentials.oneWay("tooluser", "tool-secret-123")))
                .build()
                .start()) {
            String out = run("iscsi-ls", "-s", "iscsi://tooluser%tool-secret-123@127.0.0.1:" + secured.port());
            assertTrue(out.contains("Target:" + SECURE), out);
            assertTrue(out.matches("(?s).*Lun:0\\s+Type:DIRECT_ACCESS.*"), out);
        }
    }

    private static void chapLogins(String portal) {
        String good = run("iscsi-inq", "iscsi://tooluser%tool-secret-123@" + portal + "/" + SECURE + "/0");
        assertTrue(good.contains("Vendor:OSTIA"), good);
        ExternalTool.Result bad = ExternalTool.run(TOOL_TIMEOUT,
                List.of("iscsi-inq", "iscsi://tooluser%wrong-secret-1@" + portal + "/" + SECURE + "/0"));
        assertTrue(bad.exitCode() != 0, "a wrong secret must not log in: " + bad.output());
    }

    @Test
    void iscsiPerfRunsAndReportsIops() throws InterruptedException {
        requireTool("iscsi-perf");
        ExternalTool.Result result = ExternalTool.runUntilInterrupted(Duration.ofSeconds(3),
                List.of("iscsi-perf", "-b", "8", "-m", "8", "-r", "iscsi://" + portal + "/" + DISK + "/0"));
        Matcher m = Pattern.compile("iops average (\\d+)").matcher(result.output());
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        assertTrue(last > 0, "iscsi-perf printed no positive IOPS:\n" + result.output());
        assertTrue(result.output().contains("performing RANDOM READ with 8 parallel requests"), result.output());
        // The tool is gone, so its session must end (logout or connection loss), within a bound.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (target.sessionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, target.sessionCount(), "iscsi-perf's session outlived the process");
    }
}
