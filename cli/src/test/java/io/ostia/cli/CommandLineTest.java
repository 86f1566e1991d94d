package io.ostia.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ChapCredentials;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a libiscsi user and a shell user expect it, against Ostia's embedded target. */
class CommandLineTest {
    private static final String IQN = "iqn.2026-11.io.ostia.test:cli";

    @TempDir
    Path dir;

    /** What one run printed and returned. */
    record Run(int status, String out, String err) {
    }

    private static Run ostia(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void ddCopiesAFileToALunAndBackWithOffsets() throws Exception {
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(IQN, t -> t.ramLun(4 << 20).ramLun(4 << 20)).build().start()) {
            byte[] data = new byte[64 * 512];
            new Random(7).nextBytes(data);
            Path source = Files.write(dir.resolve("in.img"), data);
            String lun0 = target.url(IQN, 0);
            Run in = ostia("dd", "--src", source.toString(), "--dst", lun0, "--seek", "100");
            assertEquals(0, in.status(), in::toString);
            assertTrue(in.out().matches("copied 64 blocks \\(32768 bytes\\) in .* MiB/s\\R"), in.out());
            assertTrue(in.err().contains("copied 64 of 64 blocks"), in.err());
            Run across = ostia("dd", "--src", lun0, "--dst", target.url(IQN, 1), "--skip", "100", "--count", "64");
            assertEquals(0, across.status(), across::toString);
            Path back = dir.resolve("out.img");
            Run out = ostia("dd", "--src", target.url(IQN, 1), "--dst", back.toString(), "--count", "64");
            assertEquals(0, out.status(), out::toString);
            assertArrayEquals(data, Files.readAllBytes(back));

            Run past = ostia("dd", "--src", source.toString(), "--dst", lun0, "--seek", "8190");
            assertEquals(2, past.status());
            assertTrue(past.err().contains("past the end of " + lun0), past.err());
            Run files = ostia("dd", "--src", source.toString(), "--dst", back.toString());
            assertEquals(2, files.status());
        }
    }

    @Test
    void inqShowsCapacityTakesHexPagesAndFailsForAMissingLun() throws Exception {
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(IQN, t -> t.lun(0, LunSpec.ram(8 << 20).withBlockSize(4096))).build().start()) {
            Run standard = ostia("inq", target.url(IQN, 0));
            assertEquals(0, standard.status(), standard::toString);
            assertTrue(standard.out().contains("Block Size:4096"), standard.out());
            assertTrue(standard.out().contains("Capacity:8388608 (8M)"), standard.out());
            Run page = ostia("inq", "-e", "-c", "0x83", target.url(IQN, 0));
            assertEquals(0, page.status(), page::toString);
            assertTrue(page.out().contains("Page Code:0x83"), page.out());
            Run missing = ostia("inq", target.url(IQN, 5));
            assertEquals(1, missing.status(), missing::toString);
            assertTrue(missing.err().contains("LOGICAL_UNIT_NOT_SUPPORTED"), missing.err());
        }
    }

    @Test
    void everyCommandHasItsOwnHelpAndAUsageErrorIsOneLineAndAPointer() {
        for (String command : new String[] {"demo", "target", "ls", "inq", "dd", "perf"}) {
            Run help = ostia(command, "-h");
            assertEquals(0, help.status(), command);
            assertTrue(help.out().startsWith("Usage: ostia " + command), help.out());
            assertEquals(0, ostia(command, "--help").status(), command);
        }
        Run bad = ostia("perf", "-m", "zero", "iscsi://h/iqn.2026-01.x:y/0");
        assertEquals(2, bad.status());
        assertEquals(2, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().contains("'ostia perf -h' shows its options"), bad.err());
    }

    @Test
    void chapComesFromLibiscsisEnvironmentVariables() throws Exception {
        assertEquals(Optional.of(ChapCredentials.mutual("u", "secret-123456", "t", "tsecret-12345")),
                Connection.chapFromEnvironment(Map.of("LIBISCSI_CHAP_USERNAME", "u", "LIBISCSI_CHAP_PASSWORD",
                        "secret-123456", "LIBISCSI_CHAP_TARGET_USERNAME", "t",
                        "LIBISCSI_CHAP_TARGET_PASSWORD", "tsecret-12345")));
        assertEquals(Optional.empty(), Connection.chapFromEnvironment(Map.of()));
        Args.UsageException e = org.junit.jupiter.api.Assertions.assertThrows(Args.UsageException.class,
                () -> Connection.chapFromEnvironment(Map.of("LIBISCSI_CHAP_USERNAME", "u")));
        assertTrue(e.getMessage().contains("LIBISCSI_CHAP_PASSWORD"), e.getMessage());
    }

    /** The initiator name and transports are set only when given, so the initiator's settings fill in the rest. */
    @Test
    void unsetConnectionOptionsAreLeftToTheInitiatorsSettings() throws Exception {
        io.ostia.api.IscsiUrl url = io.ostia.api.IscsiUrl.parse("iscsi://127.0.0.1/" + IQN + "/0");
        Args plain = Args.parse(new String[] {"inq", url.toString()}, 1, Connection.FLAGS, Connection.VALUES,
                Connection.ALIASES);
        var unset = Connection.options(plain, url, Map.of()).build().explicitlySet();
        assertFalse(unset.contains("initiatorName") || unset.contains("transports"), unset::toString);
        Args given = Args.parse(new String[] {"inq", "-i", "iqn.2026-12.example:cli", "--transport", "iser,tcp",
                url.toString()}, 1, Connection.FLAGS, Connection.VALUES, Connection.ALIASES);
        var set = Connection.options(given, url, Map.of()).build();
        assertTrue(set.explicitlySet().containsAll(java.util.List.of("initiatorName", "transports")), set::toString);
        assertEquals("iqn.2026-12.example:cli", set.initiatorName());
        assertEquals(java.util.List.of("iser", "tcp"), set.transports());
    }

    @Test
    void digestsFromTheCommandLine() throws Exception {
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(IQN, t -> t.ramLun(1 << 20)).build().start()) {
            Run crc = ostia("inq", "--header-digest", "crc32c", "--data-digest=crc32c", target.url(IQN, 0));
            assertEquals(0, crc.status(), crc::toString);
            Run wrong = ostia("inq", "--header-digest", "md5", target.url(IQN, 0));
            assertEquals(2, wrong.status());
            assertTrue(wrong.err().contains("--header-digest takes none, crc32c"), wrong.err());
        }
    }

    @Test
    void targetArgumentsAreCheckedWithClearMessages() throws Exception {
        Run huge = ostia("target", "-p", "0", "-z", "1T");
        assertEquals(1, huge.status(), huge::toString);
        assertTrue(huge.err().contains("does not fit in this JVM's off-heap memory"), huge.err());
        assertEquals(1, huge.err().lines().count(), huge.err());

        Run address = ostia("target", "-p", "0", "-a", "127.0.0.300");
        assertEquals(2, address.status());
        assertTrue(address.err().contains("127.0.0.300 is neither an IP address nor a host name that resolves"),
                address.err());
        assertFalse(address.err().contains("null"), address.err());

        Run folder = ostia("target", "-p", "0", "-f", "/no/such/dir/x.img");
        assertEquals(2, folder.status());
        assertTrue(folder.err().contains("the folder /no/such/dir does not exist"), folder.err());

        Run share = ostia("target", "-p", "0", "-z", "1M", "--write-share", "1.5");
        assertEquals(2, share.status(), share::toString);
        assertTrue(share.err().contains("write share must be a fraction of the write budget in (0, 1], not 1.5"),
                share.err());
        Run notANumber = ostia("target", "-p", "0", "-z", "1M", "--write-share", "a quarter");
        assertEquals(2, notANumber.status(), notANumber::toString);
        assertTrue(notANumber.err().contains("--write-share needs a fraction such as 0.25, got 'a quarter'"),
                notANumber.err());
        Run budget = ostia("target", "-p", "0", "-z", "1M", "--write-budget", "2k");
        assertEquals(2, budget.status(), budget::toString);
        assertTrue(budget.err().contains("write budget must be at least 4096 bytes"), budget.err());
    }

    @Test
    void anExistingFileKeepsItsSize() throws Exception {
        Path image = dir.resolve("existing.img");
        try (var file = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            file.write(java.nio.ByteBuffer.wrap(new byte[1]), (4 << 20) - 1);
        }
        // `target` serves until interrupted: run it on a thread, read its first line, then stop it.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread serving = Thread.ofVirtual().start(() -> Main.run(new String[] {"target", "-p", "0", "-f",
                image.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!out.toString(StandardCharsets.UTF_8).contains("Ctrl-C") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("(4M, 512-byte blocks)"), out::toString);
        assertEquals(4 << 20, Files.size(image), "the file keeps its size");
        serving.interrupt();
        serving.join(10_000);
        assertFalse(serving.isAlive());
    }
}
