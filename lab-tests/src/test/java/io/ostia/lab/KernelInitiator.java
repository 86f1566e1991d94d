package io.ostia.lab;

import io.ostia.testing.ExternalTool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Linux's iSCSI initiator (open-iscsi's {@code iscsiadm} driving {@code iscsid} and the kernel's
 * {@code iscsi_tcp} or, through the {@code iser} interface, {@code ib_iser}) logged into one target: {@link #login} discovers the portal's targets, logs in
 * and waits for the SCSI disk; {@link #close} logs out and forgets the node. In-guest only: the lab's
 * init starts {@code iscsid}.
 */
final class KernelInitiator implements AutoCloseable {

    /** Bound on every iscsiadm call, and on the wait for the disk to appear after login. */
    static final Duration TOOL_LIMIT = Duration.ofSeconds(60);
    private static final Pattern DISK = Pattern.compile("Attached scsi disk (sd[a-z]+)\\s+State: running");

    private final String portal;
    private final String target;
    private Path disk;
    private boolean loggedIn = true;

    private KernelInitiator(String portal, String target) {
        this.portal = portal;
        this.target = target;
    }

    /**
     * SendTargets discovery at {@code host:port} through open-iscsi's interface {@code iface}
     * ({@code default}: TCP; {@code iser}: the kernel's iSER initiator, for discovery too), which
     * must list {@code target}; login, and the wait for its disk. Throws with the tool's output
     * when a step fails; logs out again if the disk never comes.
     */
    static KernelInitiator login(String host, int port, String target, String iface) throws InterruptedException {
        String portal = host + ":" + port;
        String discovered = run("iscsiadm", "-m", "discovery", "-t", "sendtargets", "-p", portal, "-I", iface).output();
        if (!discovered.contains(portal + ",1 " + target)) {
            throw new IllegalStateException("SendTargets at " + portal + " did not list " + target + ":\n" + discovered);
        }
        String login = run("iscsiadm", "-m", "node", "-T", target, "-p", portal, "--login").output();
        if (!login.contains("successful")) {
            throw new IllegalStateException("login to " + target + " did not report success:\n" + login);
        }
        KernelInitiator initiator = new KernelInitiator(portal, target);
        try {
            initiator.disk = initiator.awaitDisk();
            return initiator;
        } catch (RuntimeException | InterruptedException e) {
            try {
                initiator.close();
            } catch (RuntimeException logoutFailure) {
                e.addSuppressed(logoutFailure);
            }
            throw e;
        }
    }

    /** The SCSI disk of LUN 0, e.g. {@code /dev/sda}. */
    Path disk() {
        return disk;
    }

    private Path awaitDisk() throws InterruptedException {
        long deadline = System.nanoTime() + TOOL_LIMIT.toNanos();
        String session = "";
        while (System.nanoTime() < deadline) {
            session = run("iscsiadm", "-m", "session", "-P", "3").output();
            Matcher m = DISK.matcher(session);
            if (m.find() && Files.exists(Path.of("/dev", m.group(1)))) {
                return Path.of("/dev", m.group(1));
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no running SCSI disk " + TOOL_LIMIT.toSeconds() + " s after login to "
                + target + "; the session shows:\n" + session);
    }

    /** Logs out (the output must say so) and deletes the node record discovery made. */
    @Override
    public void close() {
        if (!loggedIn) {
            return;
        }
        loggedIn = false;
        try {
            String logout = run("iscsiadm", "-m", "node", "-T", target, "-p", portal, "--logout").output();
            if (!logout.contains("successful")) {
                throw new IllegalStateException("logout from " + target + " did not report success:\n" + logout);
            }
        } finally {
            run("iscsiadm", "-m", "node", "-T", target, "-p", portal, "-o", "delete");
        }
    }

    /** Runs a tool bounded by {@link #TOOL_LIMIT}; a non-zero exit throws with its output. */
    static ExternalTool.Result run(String... command) {
        return ExternalTool.run(TOOL_LIMIT, List.of(command)).requireSuccess();
    }
}
