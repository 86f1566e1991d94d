package io.ostia.lab;

import io.ostia.testing.ExternalTool;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The VM lab seen from the host: whether it can run here, and one guest boot ({@code lab/run.sh})
 * that runs every in-guest test in one JVM ({@link InGuestLauncher}) on this test class path,
 * copied into a folder the guest mounts as {@code /cp}.
 */
final class VmLab {

    /** The guest's run, boot included (run.sh --timeout): qemu is killed when it passes. */
    static final Duration RUN_LIMIT = Duration.ofMinutes(12);
    /** A cold image build before the run (cached, it takes seconds). */
    static final Duration IMAGE_BUILD_LIMIT = Duration.ofMinutes(15);
    /** The Soft-RoCE device's address in the guest (dummy0, a documentation range). */
    static final String RDMA_ADDRESS = "192.0.2.1";
    private static final String RESULTS = "results.tsv";

    private final Path labDir;
    private final Path work;

    VmLab() {
        this.labDir = Path.of(property("ostia.lab.dir")).toAbsolutePath().normalize();
        this.work = Path.of(property("ostia.lab.work")).toAbsolutePath().normalize();
    }

    /** Why the lab cannot run on this machine, or empty. */
    Optional<String> unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("the VM lab needs root (debootstrap, chroot); running as " + System.getProperty("user.name"));
        }
        if (!Files.isExecutable(labDir.resolve("run.sh"))) {
            return Optional.of("no lab runner at " + labDir.resolve("run.sh"));
        }
        return ExternalTool.missing("qemu-system-x86", "qemu-system-x86_64")
                .or(() -> ExternalTool.missing("debootstrap", "debootstrap"))
                .map(why -> why + "; .ci/run installs it");
    }

    /** What one guest run left: the runner's exit code and output, and the in-guest results. */
    record Run(int exitCode, String output, List<GuestTestResult> results, Path folder) {
        /** The last lines of the guest's console, for a failure message. */
        String outputTail() {
            List<String> lines = output.lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        }
    }

    /** Builds or finds the image, boots the guest, runs every in-guest test, powers off; all bounded. */
    Run runInGuestTests() throws IOException {
        Path results = work.resolve("results");
        Path classPath = work.resolve("cp");
        deleteTree(work);
        Files.createDirectories(results);
        List<String> guestClassPath = stageClassPath(classPath);

        List<String> command = new ArrayList<>(List.of(labDir.resolve("run.sh").toString(),
                "--results", results.toString(),
                "--share", classPath + ":/cp",
                "--timeout", Long.toString(RUN_LIMIT.toSeconds()),
                "--", "java"));
        command.addAll(List.of(property("ostia.lab.guest.jvm.args").trim().split("\\s+")));
        command.addAll(List.of(
                // C1 only: under TCG a JIT's compile time costs more than the code it makes saves.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dostia.rdma.test.address=" + RDMA_ADDRESS,
                "-D" + InGuestLauncher.SUITES_PROPERTY + "=" + System.getProperty(InGuestLauncher.SUITES_PROPERTY,
                        InGuestLauncher.SUITE_PATTERN),
                "-cp", String.join(File.pathSeparator, guestClassPath),
                InGuestLauncher.class.getName(), "/lab/" + RESULTS));
        ExternalTool.Result result = ExternalTool.run(IMAGE_BUILD_LIMIT.plus(RUN_LIMIT), command);

        Path file = results.resolve(RESULTS);
        List<GuestTestResult> parsed = Files.exists(file)
                ? Files.readAllLines(file).stream().filter(l -> !l.isEmpty()).map(GuestTestResult::parse).toList()
                : List.of();
        return new Run(result.exitCode(), result.output(), parsed, results);
    }

    /** Copies every class path entry under {@code folder}; returns the entries as the guest sees them. */
    private static List<String> stageClassPath(Path folder) throws IOException {
        Files.createDirectories(folder);
        List<String> guestEntries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.exists(source)) {
                continue;
            }
            String name = String.format("%02d-%s", n++, source.getFileName());
            copyTree(source, folder.resolve(name));
            guestEntries.add("/cp/" + name);
        }
        return guestEntries;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path p : paths.toList()) {
                Files.copy(p, target.resolve(source.relativize(p).toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException("system property " + name + " is not set (lab-tests/pom.xml sets it for surefire)");
        }
        return value;
    }
}
