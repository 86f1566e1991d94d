package io.ostia.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ostia.testing.ExternalTool;
import io.ostia.testing.TgtdServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as a plain JPMS program: {@code java --module-path <jars> -m io.ostia.cli/...}
 * with no class path at all, against a tgtd the test starts. The TCP transport is named nowhere
 * in the command line's code: the initiator finds it through ServiceLoader, which the JVM's
 * module resolution shows as a service binding. Runs after {@code package}, which makes the jars.
 */
class CliModulePathIT {
    private static final String TARGET = "iqn.2026-11.io.ostia.test:cli";
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration RUN_BOUND = Duration.ofSeconds(60);
    private static final Pattern RESULT = Pattern.compile("(?m)^result: (\\d+) IOPS, ([0-9.]+) MiB/s");

    @TempDir
    static Path dir;

    private static TgtdServer tgtd;
    private static TgtdServer.Target target;
    private static Path lunFile;

    @BeforeAll
    static void startTgtd() throws IOException {
        assumeTrue(TgtdServer.unavailability().isEmpty(),
                () -> "the JPMS command-line test needs Linux tgtd (Debian package tgt): " + TgtdServer.unavailability().get());
        tgtd = TgtdServer.start(dir);
        target = tgtd.createTarget(TARGET);
        lunFile = tgtd.addLun(target, 1, LUN_BYTES);
    }

    @AfterAll
    static void stopTgtd() {
        if (tgtd != null) {
            tgtd.close();
        }
    }

    @Test
    void lsFindsTheTargetAndItsLunsThroughAServiceLoaderBoundTransport() {
        String portal = "iscsi://127.0.0.1:" + tgtd.port();
        ExternalTool.Result ls = ostia(modulePath(true), List.of("--show-module-resolution"), "ls", "-s", portal)
                .requireSuccess();
        String out = ls.output();
        assertTrue(out.contains("Target:" + TARGET + " Portal:127.0.0.1:" + tgtd.port() + ",1"), out);
        assertTrue(out.contains("Lun:0 Type:STORAGE_ARRAY_CONTROLLER"), out);
        assertTrue(out.contains("Lun:1 Type:DIRECT_ACCESS (Size:64M)"), out);
        // Resolution binds the transport to the initiator's `uses IscsiTransport`: ServiceLoader's path.
        assertTrue(Pattern.compile("(?m)^io\\.ostia\\.initiator binds io\\.ostia\\.transport\\.tcp ").matcher(out).find(),
                "the JVM did not bind io.ostia.transport.tcp as a service provider:\n" + out);
        assertFalse(out.contains("unnamed module"), out);
    }

    @Test
    void withoutTheTransportModuleLoginFailsNamingIt() {
        ExternalTool.Result ls = ostia(modulePath(false), List.of(), "ls", "iscsi://127.0.0.1:" + tgtd.port());
        assertEquals(1, ls.exitCode(), ls.output());
        // Other transports on the module path (iser, for swap-bench) may be available; tcp is not.
        assertTrue(Pattern.compile("tried tcp \\(not available\\) \\(available: \\[(?![^\\]]*tcp)[^\\]]*\\]")
                .matcher(ls.output()).find(), ls.output());
    }

    @Test
    void inqReadsTheStandardInquiryData() {
        ExternalTool.Result inq = ostia(modulePath(true), List.of(), "inq", tgtd.url(target, 1)).requireSuccess();
        assertTrue(inq.output().contains("Peripheral Device Type:DIRECT_ACCESS"), inq.output());
        assertTrue(inq.output().contains("Vendor:IET"), inq.output());
    }

    @Test
    void perfWritesThenReadsWithNonzeroIops() throws IOException {
        ExternalTool.Result write = ostia(modulePath(true), List.of(), "perf", "-d", "2", "-w", tgtd.url(target, 1))
                .requireSuccess();
        assertTrue(write.output().contains("over tcp"), write.output());
        assertTrue(write.output().contains("SEQUENTIAL WRITE with 32 parallel requests of 8 blocks"), write.output());
        assertTrue(iops(write) > 0, write.output());
        // The writes reached tgtd's backing file: perf fills its buffers with 0x5a and up, never zero.
        byte[] first = new byte[4096];
        try (var in = Files.newInputStream(lunFile)) {
            assertEquals(first.length, in.readNBytes(first, 0, first.length));
        }
        assertTrue(first[0] != 0 && first[4095] != 0, "tgtd's backing file starts with zeros after perf -w");

        ExternalTool.Result read = ostia(modulePath(true), List.of(), "perf", "-d", "2", tgtd.url(target, 1))
                .requireSuccess();
        assertTrue(read.output().contains("SEQUENTIAL READ"), read.output());
        assertTrue(iops(read) > 0, read.output());
    }

    private static long iops(ExternalTool.Result perf) {
        Matcher m = RESULT.matcher(perf.output());
        assertTrue(m.find(), "no result line in:\n" + perf.output());
        assertTrue(Double.parseDouble(m.group(2)) > 0, perf.output());
        return Long.parseLong(m.group(1));
    }

    /** The cli jar and its runtime modules; without the TCP transport's jar when {@code withTransport} is false. */
    private static String modulePath(boolean withTransport) {
        Path cliJar = Path.of(required("ostia.cli.jar"));
        Path modules = Path.of(required("ostia.cli.modules"));
        assertTrue(Files.isRegularFile(cliJar), cliJar + " is missing: it is made by the package phase");
        List<String> entries = new ArrayList<>(List.of(cliJar.toString()));
        try (Stream<Path> jars = Files.list(modules)) {
            jars.filter(p -> p.toString().endsWith(".jar"))
                    // Without any transport: iSER is on the module path too (swap-bench's), and would be the one available.
                    .filter(p -> withTransport || !p.getFileName().toString().startsWith("ostia-transport-tcp")
                            && !p.getFileName().toString().startsWith("ostia-transport-iser"))
                    .sorted().forEach(p -> entries.add(p.toString()));
        } catch (IOException e) {
            throw new AssertionError(modules + " cannot be listed: it is made by the package phase", e);
        }
        assertEquals(withTransport, entries.stream().anyMatch(e -> e.contains("ostia-transport-tcp")), entries::toString);
        return String.join(File.pathSeparator, entries);
    }

    /** Runs the command line on the module path only: no class path, not even from the environment. */
    private static ExternalTool.Result ostia(String modulePath, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(List.of("env", "-u", "CLASSPATH",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("--module-path", modulePath, "-m", "io.ostia.cli/io.ostia.cli.Main"));
        command.addAll(List.of(args));
        return ExternalTool.run(RUN_BOUND, command);
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        assertTrue(value != null, () -> "system property " + property + " is not set: run this test with failsafe (./mvnw verify)");
        return value;
    }
}
