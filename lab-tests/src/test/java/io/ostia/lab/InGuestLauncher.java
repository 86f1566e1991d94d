package io.ostia.lab;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/**
 * Runs inside the guest: finds every class named {@code *InGuest} in the class path's folders,
 * runs them with the JUnit Platform, and writes one {@link GuestTestResult} line per test (and per
 * container that failed before its tests could run) to the file named by its only argument, as
 * each ends, so that a run cut short still reports what it did.
 */
public final class InGuestLauncher {

    /** In-guest test classes end with this; surefire's own patterns never pick them up on the host. */
    static final String SUITE_PATTERN = ".*InGuest";
    /** A narrower pattern for debugging one suite ({@code -Dostia.lab.suites=.*TgtdInGuest} on the host). */
    static final String SUITES_PROPERTY = "ostia.lab.suites";
    /** The {@code @Order} of suites that break the guest's RDMA device: they run last. */
    static final int LAST = Integer.MAX_VALUE;

    private InGuestLauncher() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: InGuestLauncher <results file>");
        }
        Set<Path> roots = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of).filter(Files::isDirectory).collect(Collectors.toSet());
        LauncherDiscoveryRequest request = request()
                .selectors(selectClasspathRoots(roots))
                .filters(includeClassNamePatterns(SUITE_PATTERN), includeClassNamePatterns(
                        System.getProperty(SUITES_PROPERTY, SUITE_PATTERN)))
                // Suites that take the device away (@Order(LAST)) run after every other.
                .configurationParameter("junit.jupiter.testclass.order.default",
                        "org.junit.jupiter.api.ClassOrderer$OrderAnnotation")
                .build();
        try (BufferedWriter out = Files.newBufferedWriter(Path.of(args[0]), StandardCharsets.UTF_8)) {
            LauncherFactory.create().execute(request, new ResultWriter(out));
        }
    }

    /** Writes each result as it comes, and says on the console what ended. */
    private record ResultWriter(BufferedWriter out) implements TestExecutionListener {

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            write(id, GuestTestResult.Status.SKIPPED, reason);
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            GuestTestResult.Status status = switch (result.getStatus()) {
                case SUCCESSFUL -> GuestTestResult.Status.PASSED;
                case ABORTED -> GuestTestResult.Status.SKIPPED;
                case FAILED -> GuestTestResult.Status.FAILED;
            };
            // A container is reported only when it failed: its tests then never ran.
            if (id.isTest() || status == GuestTestResult.Status.FAILED) {
                write(id, status, result.getThrowable().map(InGuestLauncher::stackTrace).orElse(""));
            }
        }

        private void write(TestIdentifier id, GuestTestResult.Status status, String detail) {
            String className = id.getSource().map(source -> switch (source) {
                case MethodSource m -> m.getClassName();
                case ClassSource c -> c.getClassName();
                default -> id.getUniqueId();
            }).orElse(id.getUniqueId());
            String testName = id.isTest() ? id.getDisplayName() : "(class)";
            GuestTestResult line = new GuestTestResult(className, testName, status, detail);
            System.out.println("[in-guest] " + status + " " + line.displayName());
            try {
                out.write(line.toLine());
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the in-guest result of " + line.displayName(), e);
            }
        }
    }

    private static String stackTrace(Throwable t) {
        StringWriter text = new StringWriter();
        t.printStackTrace(new PrintWriter(text));
        return text.toString();
    }
}
