package io.ostia.target;

import io.ostia.testing.ExternalTool;
import io.ostia.testing.TgtdServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * libiscsi's conformance suite, SCSI and iSCSI families, against Ostia's target and against
 * tgtd on the same machine: Ostia must pass every test tgtd passes, except tests listed with a
 * reason in iscsi-test-cu-expected-failures.txt; and every test failing for Ostia must be listed.
 */
class IscsiTestCuTest {

    private static final String IQN = "iqn.2026-01.io.ostia:conformance";
    private static final long LUN_BYTES = 64L << 20;
    private static final List<String> FAMILIES = List.of("SCSI", "iSCSI");
    private static final Duration FAMILY_TIMEOUT = Duration.ofMinutes(5);

    /** Test name (FAMILY.Suite.Test) to pass (true) or fail (false). */
    record Outcome(Map<String, Boolean> tests) {
        Set<String> passed() {
            Set<String> s = new TreeSet<>();
            tests.forEach((name, ok) -> {
                if (ok) {
                    s.add(name);
                }
            });
            return s;
        }

        Set<String> failed() {
            Set<String> s = new TreeSet<>(tests.keySet());
            s.removeAll(passed());
            return s;
        }
    }

    @Test
    void ostiaPassesEveryTestTgtdPasses(@TempDir Path work) throws IOException {
        var missing = ExternalTool.missing("libiscsi-bin", "iscsi-test-cu");
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.get());
        var noTgtd = TgtdServer.unavailability();
        assumeTrue(noTgtd.isEmpty(), () -> "skipped: " + noTgtd.get());

        Outcome ours;
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(IQN, t -> t.lun(0, LunSpec.ram(LUN_BYTES)))
                .build()
                .start()) {
            ours = run(work.resolve("ostia"), "iscsi://127.0.0.1:" + target.port() + "/" + IQN + "/0");
        }
        Outcome theirs;
        try (TgtdServer tgtd = TgtdServer.start(work.resolve("tgtd"))) {
            TgtdServer.Target t = tgtd.createTarget(IQN);
            tgtd.addLun(t, 1, LUN_BYTES);
            theirs = run(work.resolve("tgtd-run"), tgtd.url(t, 1));
        }
        Map<String, String> expected = expectedFailures();
        System.out.printf("iscsi-test-cu %s: Ostia %d passed, %d failed; tgtd %d passed, %d failed%n", FAMILIES,
                ours.passed().size(), ours.failed().size(), theirs.passed().size(), theirs.failed().size());
        System.out.println("tgtd fails: " + theirs.failed());
        System.out.println("Ostia fails: " + ours.failed());

        assertTrue(ours.tests().size() >= 200, "the suite ran only " + ours.tests().size() + " tests for Ostia");
        assertTrue(theirs.tests().keySet().equals(ours.tests().keySet()),
                "both runs should list the same tests; only tgtd: " + difference(theirs.tests().keySet(),
                        ours.tests().keySet()) + ", only Ostia: " + difference(ours.tests().keySet(), theirs.tests().keySet()));
        Set<String> regressions = difference(theirs.passed(), ours.passed());
        regressions.removeAll(expected.keySet());
        assertTrue(regressions.isEmpty(), "tgtd passes but Ostia fails (and no documented reason): " + regressions);
        Set<String> undocumented = difference(ours.failed(), expected.keySet());
        assertTrue(undocumented.isEmpty(), "failing for Ostia but not in iscsi-test-cu-expected-failures.txt: "
                + undocumented);
        Set<String> stale = difference(expected.keySet(), ours.failed());
        if (!stale.isEmpty()) {
            System.out.println("listed as failing but passing now (prune the list): " + stale);
        }
    }

    /**
     * 4 KiB blocks: the SCSI family moves up to 256 MiB in one command there (WriteSame16.Unmap
     * writes and reads 65536 blocks), so this also covers the largest transfers.
     */
    @Test
    void fourKibBlockLunsPassTheScsiFamily(@TempDir Path work) throws IOException {
        var missing = ExternalTool.missing("libiscsi-bin", "iscsi-test-cu");
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.get());
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(IQN, t -> t.lun(0, LunSpec.ram(256L << 20).withBlockSize(4096)))
                .build()
                .start()) {
            Outcome outcome = run(work.resolve("4k"), target.url(IQN, 0), List.of("SCSI"));
            System.out.printf("iscsi-test-cu SCSI on 4 KiB blocks: Ostia %d passed, %d failed%n",
                    outcome.passed().size(), outcome.failed().size());
            assertTrue(outcome.tests().size() >= 200, "only " + outcome.tests().size() + " tests ran");
            Set<String> undocumented = difference(outcome.failed(), expectedFailures().keySet());
            assertTrue(undocumented.isEmpty(), "failing on 4 KiB blocks: " + undocumented);
        }
    }

    /** The ReadOnly suite skips on a writable LUN; on a read-only one every check must hold. */
    @Test
    void readOnlySuitePassesOnAReadOnlyLun(@TempDir Path work) throws IOException {
        var missing = ExternalTool.missing("libiscsi-bin", "iscsi-test-cu");
        assumeTrue(missing.isEmpty(), () -> "skipped: " + missing.get());
        try (IscsiTarget target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .target(IQN, t -> t.lun(0, LunSpec.ram(LUN_BYTES).withReadOnly(true)))
                .build()
                .start()) {
            Path dir = Files.createDirectories(work.resolve("readonly"));
            ExternalTool.Result result = ExternalTool.run(FAMILY_TIMEOUT, List.of("sh", "-c",
                    "cd '" + dir + "' && exec iscsi-test-cu --dataloss -x -t SCSI.ReadOnly '" + target.url(IQN, 0) + "'"));
            Map<String, Boolean> tests = new TreeMap<>();
            parse(Files.readString(dir.resolve("CUnitAutomated-Results.xml"), StandardCharsets.UTF_8), "SCSI", tests);
            assertTrue(!tests.isEmpty() && !tests.containsValue(false), "SCSI.ReadOnly: " + tests + "\n" + result.output());
        }
    }

    private static Set<String> difference(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }

    /** Runs each family with XML output in its own folder and merges the outcomes. */
    private static Outcome run(Path dir, String url) throws IOException {
        return run(dir, url, FAMILIES);
    }

    private static Outcome run(Path dir, String url, List<String> families) throws IOException {
        Map<String, Boolean> tests = new TreeMap<>();
        for (String family : families) {
            Path familyDir = Files.createDirectories(dir.resolve(family));
            // -x writes CUnitAutomated-Results.xml to the working directory.
            ExternalTool.Result result = ExternalTool.run(FAMILY_TIMEOUT, List.of("sh", "-c",
                    "cd '" + familyDir + "' && exec iscsi-test-cu --dataloss -x -t " + family + " '" + url + "'"));
            Path xml = familyDir.resolve("CUnitAutomated-Results.xml");
            if (!Files.exists(xml)) {
                throw new IllegalStateException("iscsi-test-cu wrote no results for " + family + " against " + url
                        + " (exit " + result.exitCode() + "):\n" + result.output());
            }
            parse(Files.readString(xml, StandardCharsets.UTF_8), family, tests);
        }
        return new Outcome(tests);
    }

    private static final Pattern RECORD = Pattern.compile(
            "<SUITE_NAME>\\s*(\\S+)\\s*</SUITE_NAME>|<CUNIT_RUN_TEST_(SUCCESS|FAILURE)>\\s*<TEST_NAME>\\s*(\\S+)\\s*</TEST_NAME>");

    static void parse(String xml, String family, Map<String, Boolean> tests) {
        Matcher m = RECORD.matcher(xml);
        String suite = null;
        while (m.find()) {
            if (m.group(1) != null) {
                suite = m.group(1);
            } else if (suite != null) {
                String name = family + "." + suite + "." + m.group(3);
                boolean ok = m.group(2).equals("SUCCESS");
                tests.merge(name, ok, Boolean::logicalAnd);
            }
        }
    }

    /** FAMILY.Suite.Test to its documented reason; a line without a reason is an error. */
    static Map<String, String> expectedFailures() throws IOException {
        Map<String, String> list = new TreeMap<>();
        try (InputStream in = IscsiTestCuTest.class.getResourceAsStream("/iscsi-test-cu-expected-failures.txt")) {
            if (in == null) {
                throw new IllegalStateException("iscsi-test-cu-expected-failures.txt is missing from the test resources");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                String trimmed = line.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                String[] parts = trimmed.split("\\s+", 2);
                if (parts.length < 2 || parts[1].isBlank()) {
                    throw new IllegalStateException("expected failure " + parts[0] + " has no written reason");
                }
                list.put(parts[0], parts[1]);
            }
        }
        return list;
    }
}
