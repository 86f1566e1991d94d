package io.ostia.rdma.internal.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * gcc for tests that check the bindings against the installed C headers. Tests skip with a
 * clear message where gcc or the rdma-core headers are missing (CI installs both).
 */
public final class CToolchain {
    private static final long TIMEOUT_SECONDS = 60;
    private static final Path BUILD_DIR = Path.of(System.getProperty("ostia.rdma.native.dir", "target/native-test"));

    private CToolchain() {
    }

    static Optional<Path> gcc() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path candidate = Path.of(dir, "gcc");
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /** Skips the calling test unless gcc and the rdma-core development headers are installed. */
    public static void assumeAvailable() {
        assumeTrue(gcc().isPresent(), "gcc not found on PATH: the native binding tests compile C against the "
                + "installed rdma-core headers (apt-get install gcc libibverbs-dev librdmacm-dev)");
        assumeTrue(Files.isReadable(Path.of("/usr/include/infiniband/verbs.h"))
                        && Files.isReadable(Path.of("/usr/include/rdma/rdma_cma.h")),
                "rdma-core headers missing: apt-get install libibverbs-dev librdmacm-dev");
    }

    /** Writes a class-path resource next to this class into the build directory. */
    static Path resource(String name) throws IOException {
        Files.createDirectories(BUILD_DIR);
        Path target = BUILD_DIR.resolve(name);
        try (InputStream in = CToolchain.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("test resource " + name + " is missing");
            }
            Files.write(target, in.readAllBytes());
        }
        return target;
    }

    /** Writes C source into the build directory. */
    static Path source(String name, String text) throws IOException {
        Files.createDirectories(BUILD_DIR);
        return Files.writeString(BUILD_DIR.resolve(name), text);
    }

    /** Runs gcc with these arguments; fails with its output if it fails. */
    static void gcc(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(gcc().orElseThrow().toString());
        command.addAll(List.of(args));
        run(command);
    }

    /** Runs a command (bounded) and returns its standard output; fails with its output if it fails. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[] output;
        try (InputStream in = process.getInputStream()) {
            output = in.readAllBytes();
        }
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(command + " did not finish within " + TIMEOUT_SECONDS + " s");
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IOException(command + " failed with exit code " + process.exitValue() + ":\n" + text);
        }
        return text;
    }

    /** Builds the data-path stand-in provider (fakeverbs.c) and returns its path. */
    public static Path buildFakeVerbs() throws IOException, InterruptedException {
        return buildLibrary("fakeverbs");
    }

    /** Builds the stand-in libibverbs + librdmacm (fakerdma.c) and returns its path. */
    public static Path buildFakeRdma() throws IOException, InterruptedException {
        return buildLibrary("fakerdma");
    }

    private static Path buildLibrary(String name) throws IOException, InterruptedException {
        Path source = resource(name + ".c");
        Path library = BUILD_DIR.resolve("lib" + name + ".so");
        gcc("-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC", "-o", library.toString(), source.toString(), "-lpthread");
        return library.toAbsolutePath();
    }
}
