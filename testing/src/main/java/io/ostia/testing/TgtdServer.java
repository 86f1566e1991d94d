package io.ostia.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A Linux {@code tgtd} iSCSI target on loopback, for tests: its own portal port and control
 * port, LUN backing files in a folder the test owns, and a shutdown that deletes every target
 * first (a plain SIGTERM does not stop tgtd while targets exist) and checks tgtd did not crash.
 *
 * <p>tgtd runs as root; {@link #unavailability()} says why it cannot run here.
 */
public final class TgtdServer implements AutoCloseable {

    /** tgtd's iSER port (its default, the iSCSI port; see {@link #startWithIser}). */
    public static final int ISER_PORT = 3260;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    /** A target created on this server. */
    public record Target(int tid, String iqn) {
    }

    private final Path workDir;
    private final int port;
    /** The iSER portal's port (every RDMA address of the host), or 0 without one. */
    private final int iserPort;
    private final int controlPort;
    private final Process process;
    private final Path log;
    private final List<Target> targets = new ArrayList<>();
    private boolean closed;
    private boolean killed;

    private TgtdServer(Path workDir, int port, int iserPort, int controlPort, Process process, Path log) {
        this.workDir = workDir;
        this.port = port;
        this.iserPort = iserPort;
        this.controlPort = controlPort;
        this.process = process;
        this.log = log;
    }

    /** Why tgtd cannot run on this machine, or empty when it can. */
    public static Optional<String> unavailability() {
        Optional<String> missing = ExternalTool.missing("tgt", "tgtd", "tgtadm");
        if (missing.isPresent()) {
            return missing;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("tgtd needs root, and the tests run as " + System.getProperty("user.name"));
        }
        return Optional.empty();
    }

    /** Starts tgtd on 127.0.0.1 on a free port; files go under {@code workDir}. */
    public static TgtdServer start(Path workDir) throws IOException {
        return start(workDir, false, freePort());
    }

    /**
     * Starts tgtd on 127.0.0.1:{@code port}: a target restarted behind the portal of one that was
     * killed, so that an initiator's session finds it again. Its targets are to create again;
     * {@link #addLun} keeps what an existing backing file of the same name holds.
     */
    public static TgtdServer start(Path workDir, int port) throws IOException {
        return start(workDir, false, port);
    }

    /**
     * Starts tgtd with an iSER portal too, on port {@value #ISER_PORT} of every RDMA device's
     * addresses; its targets are iSER targets ({@code --lld iser}). Needs an RDMA device (the VM
     * lab's rxe0): without one tgtd's iSER driver does not listen. The port is fixed: tgt 1.0.85
     * refuses every {@code --iser port=N} ("invalid port supplied": its parser reads a stale errno),
     * so at most one such tgtd runs per host, which the lab's guest is.
     */
    public static TgtdServer startWithIser(Path workDir) throws IOException {
        return start(workDir, true, freePort());
    }

    private static TgtdServer start(Path workDir, boolean iser, int port) throws IOException {
        unavailability().ifPresent(why -> {
            throw new IllegalStateException("cannot start tgtd: " + why);
        });
        Files.createDirectories(workDir);
        int iserPort = iser ? ISER_PORT : 0;
        int controlPort = freeControlPort();
        Path log = workDir.resolve("tgtd-" + port + ".log");
        List<String> command = new ArrayList<>(List.of(ExternalTool.find("tgtd").orElseThrow().toString(), "-f",
                "-C", Integer.toString(controlPort), "--iscsi", "portal=127.0.0.1:" + port));
        if (iser) {
            // tgt registers a buffer pool of 1 GiB per device unless told less: too much for the lab's guest.
            command.addAll(List.of("--iser", "pool_sz_mb=128"));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        TgtdServer server = new TgtdServer(workDir, port, iserPort, controlPort, process, log);
        try {
            server.awaitReady();
        } catch (RuntimeException e) {
            server.killQuietlyAfter(e);
            throw e;
        }
        return server;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The iSER portal's port, on every RDMA address of the host; 0 when started without iSER. */
    public int iserPort() {
        return iserPort;
    }

    public int controlPort() {
        return controlPort;
    }

    public Path workDir() {
        return workDir;
    }

    /** The URL libiscsi's tools take for a LUN of {@code target}. */
    public String url(Target target, int lun) {
        return "iscsi://127.0.0.1:" + port + "/" + target.iqn() + "/" + lun;
    }

    /**
     * Creates a target that every initiator may log into (an iSER target when started with iSER:
     * tgt 1.0.85 then also wants each initiator's name bound, {@link #allowInitiator}).
     */
    public synchronized Target createTarget(String iqn) {
        Target target = new Target(targets.size() + 1, iqn);
        tgtadm("--mode", "target", "--op", "new", "--tid", Integer.toString(target.tid()), "--targetname", iqn);
        targets.add(target);
        tgtadm("--mode", "target", "--op", "bind", "--tid", Integer.toString(target.tid()), "-I", "ALL");
        return target;
    }

    /**
     * Binds an initiator's name to the target: tgt 1.0.85 refuses iSER logins and SendTargets
     * from any initiator not bound by name, even with {@code -I ALL}.
     */
    public void allowInitiator(Target target, String initiatorName) {
        tgtadm("--mode", "target", "--op", "bind", "--tid", Integer.toString(target.tid()), "-Q", initiatorName);
    }

    /** Adds a LUN backed by a sparse file of {@code sizeBytes} (an existing one keeps its data); returns the file. */
    public Path addLun(Target target, int lun, long sizeBytes) {
        Path file = workDir.resolve("tid" + target.tid() + "-lun" + lun + ".img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(sizeBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create backing file " + file, e);
        }
        tgtadm("--mode", "logicalunit", "--op", "new", "--tid", Integer.toString(target.tid()),
                "--lun", Integer.toString(lun), "--backing-store", file.toString());
        return file;
    }

    /** Requires one-way CHAP: the initiator must prove {@code user}/{@code secret}. */
    public void requireChap(Target target, String user, String secret) {
        account(target, user, secret, false);
    }

    /** The target proves {@code user}/{@code secret} to the initiator (mutual CHAP). */
    public void mutualChap(Target target, String user, String secret) {
        account(target, user, secret, true);
    }

    /**
     * Sets a target's iSCSI parameter, such as {@code HeaderDigest=CRC32C,None} (tgtd offers
     * only None for digests until told otherwise).
     */
    public void setParameter(Target target, String name, String value) {
        tgtadm("--mode", "target", "--op", "update", "--tid", Integer.toString(target.tid()), "--name", name,
                "--value", value);
    }

    /** Runs tgtadm against this server's control port; fails with tgtadm's own message. */
    public String tgtadm(String... args) {
        List<String> command = new ArrayList<>(List.of(ExternalTool.find("tgtadm").orElseThrow().toString(),
                "-C", Integer.toString(controlPort), "--lld", iserPort == 0 ? "iscsi" : "iser"));
        command.addAll(List.of(args));
        return ExternalTool.run(COMMAND_TIMEOUT, command).requireSuccess().output();
    }

    /** Kills tgtd at once (SIGKILL), as a crashed target would vanish. */
    public synchronized void kill() {
        killed = true;
        process.destroyForcibly();
        try {
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Freezes tgtd (SIGSTOP): connections stay open but nothing is answered, as with a hung target. */
    public void pause() {
        signal("STOP");
    }

    /** Lets a paused tgtd run again (SIGCONT). */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        ExternalTool.run(COMMAND_TIMEOUT, List.of("kill", "-" + name, Long.toString(process.pid()))).requireSuccess();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** What tgtd has logged so far. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "[cannot read " + log + ": " + e + "]";
        }
    }

    /**
     * Deletes every target, shuts tgtd down and waits for it to exit.
     *
     * @throws IllegalStateException when tgtd crashed or would not stop (its log is in the message)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!process.isAlive()) {
            if (!killed) {
                checkExit("tgtd had already exited");
            }
            return;
        }
        List<String> problems = new ArrayList<>();
        for (Target target : targets) {
            deleteTarget(target, problems);
        }
        try {
            tgtadm("--op", "delete", "--mode", "system");
        } catch (RuntimeException e) {
            problems.add("system delete: " + e.getMessage());
        }
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                throw new IllegalStateException("tgtd did not stop within " + STOP_TIMEOUT + " (" + problems + "); log:\n" + log());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping tgtd", e);
        }
        checkExit("tgtd stopped");
    }

    private void deleteTarget(Target target, List<String> problems) {
        String tid = Integer.toString(target.tid());
        try {
            tgtadm("--mode", "target", "--op", "delete", "--force", "--tid", tid);
            return;
        } catch (RuntimeException first) {
            // A session may still be logging out: retry a plain delete for a while.
            long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
            RuntimeException last = first;
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    tgtadm("--mode", "target", "--op", "delete", "--tid", tid);
                    return;
                } catch (RuntimeException again) {
                    last = again;
                    sleep(200);
                }
            }
            problems.add("target " + target.iqn() + ": " + last.getMessage());
        }
    }

    private void checkExit(String what) {
        int code = process.exitValue();
        if (code == 255 && log().contains("still have sessions")) {
            // tgt 1.0.85 keeps a reinstated session's predecessor after a connection reset and
            // exits 255 at shutdown with this line: its own bookkeeping, not a crash.
            return;
        }
        if (code != 0) {
            throw new IllegalStateException(what + " with exit code " + code
                    + (code > 128 ? " (signal " + (code - 128) + ")" : "") + "; log:\n" + log());
        }
    }

    private void account(Target target, String user, String secret, boolean outgoing) {
        tgtadm("--mode", "account", "--op", "new", "--user", user, "--password", secret);
        List<String> bind = new ArrayList<>(List.of("--mode", "account", "--op", "bind",
                "--tid", Integer.toString(target.tid()), "--user", user));
        if (outgoing) {
            bind.add("--outgoing");
        }
        tgtadm(bind.toArray(String[]::new));
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String lastProblem = "no attempt yet";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tgtd exited at start with code " + process.exitValue() + "; log:\n" + log());
            }
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
                tgtadm("--mode", "system", "--op", "show");
                return;
            } catch (IOException | RuntimeException e) {
                lastProblem = e.getMessage();
                sleep(100);
            }
        }
        throw new IllegalStateException("tgtd did not become ready on port " + port + " within " + START_TIMEOUT
                + " (" + lastProblem + "); log:\n" + log());
    }

    private void killQuietlyAfter(RuntimeException cause) {
        process.destroyForcibly();
        try {
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cause.addSuppressed(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        }
    }

    /** tgtd's control "port" names a UNIX socket under /var/run/tgtd; pick one nobody uses. */
    private static int freeControlPort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int candidate = ThreadLocalRandom.current().nextInt(1000, 30000);
            if (!Files.exists(Path.of("/var/run/tgtd/socket." + candidate))) {
                return candidate;
            }
        }
        throw new IllegalStateException("no free tgtd control port found in /var/run/tgtd");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
