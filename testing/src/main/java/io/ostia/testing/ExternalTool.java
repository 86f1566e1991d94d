package io.ostia.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs an external program with a bounded running time and captures what it prints. */
public final class ExternalTool {

    private ExternalTool() {
    }

    /** What a finished program printed (stdout and stderr merged) and its exit code. */
    public record Result(List<String> command, int exitCode, String output) {
        public Result requireSuccess() {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + exitCode + ":\n" + output);
            }
            return this;
        }
    }

    /** The absolute path of {@code program} on PATH or in /usr/sbin, /sbin, if present. */
    public static Optional<Path> find(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Why {@code programs} cannot run here (the missing ones and their Debian package), or empty. */
    public static Optional<String> missing(String debianPackage, String... programs) {
        List<String> absent = new ArrayList<>();
        for (String p : programs) {
            if (find(p).isEmpty()) {
                absent.add(p);
            }
        }
        return absent.isEmpty() ? Optional.empty()
                : Optional.of(String.join(", ", absent) + " not installed (Debian package " + debianPackage + ")");
    }

    /**
     * Runs {@code command}; if it has not exited after {@code timeout} it gets {@code signal}
     * (SIGINT lets iscsi-perf print its summary), then SIGKILL after five more seconds.
     */
    public static Result run(Duration timeout, List<String> command) {
        return run(timeout, false, command);
    }

    /** As {@link #run(Duration, List)}, but a timeout is the expected end: the program is interrupted with SIGINT. */
    public static Result runUntilInterrupted(Duration runFor, List<String> command) {
        return run(runFor, true, command);
    }

    private static Result run(Duration timeout, boolean interruptIsNormal, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.getFirst(), e);
        }
        StringBuilder output = new StringBuilder();
        Thread reader = Thread.ofVirtual().name("tool-output-" + command.getFirst()).start(() -> {
            try (InputStream in = process.getInputStream()) {
                byte[] buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    synchronized (output) {
                        output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException e) {
                synchronized (output) {
                    output.append("\n[output read failed: ").append(e).append(']');
                }
            }
        });
        try {
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) {
                signal(process, "INT");
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
                if (!interruptIsNormal) {
                    reader.join(Duration.ofSeconds(5));
                    throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout
                            + "; it printed:\n" + snapshot(output));
                }
            }
            reader.join(Duration.ofSeconds(5));
            return new Result(List.copyOf(command), process.exitValue(), snapshot(output));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.getFirst(), e);
        }
    }

    private static void signal(Process process, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            process.destroy();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
        }
    }

    private static String snapshot(StringBuilder output) {
        synchronized (output) {
            return output.toString();
        }
    }
}
