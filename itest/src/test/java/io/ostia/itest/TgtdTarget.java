package io.ostia.itest;

import io.ostia.api.SessionOptions;
import io.ostia.testing.TgtdServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/** A tgtd on loopback with one target and LUN 1 in a temporary folder, stopped and deleted by close. */
final class TgtdTarget implements AutoCloseable {
    static final String TARGET = "iqn.2026-11.io.ostia.itest:felix";
    static final String INITIATOR = "iqn.2026-11.io.ostia.itest:client";

    final Path dir;
    /** Replaced by {@link #restart}. */
    volatile TgtdServer tgtd;
    final TgtdServer.Target target;
    final Path lunFile;
    private final long lunBytes;

    private TgtdTarget(Path dir, TgtdServer tgtd, TgtdServer.Target target, Path lunFile, long lunBytes) {
        this.dir = dir;
        this.tgtd = tgtd;
        this.target = target;
        this.lunFile = lunFile;
        this.lunBytes = lunBytes;
    }

    static TgtdTarget start(long lunBytes) throws IOException {
        Path dir = Files.createTempDirectory("ostia-itest-");
        TgtdServer tgtd = TgtdServer.start(dir);
        try {
            TgtdServer.Target target = tgtd.createTarget(TARGET);
            return new TgtdTarget(dir, tgtd, target, tgtd.addLun(target, 1, lunBytes), lunBytes);
        } catch (RuntimeException e) {
            tgtd.close();
            throw e;
        }
    }

    /**
     * After {@link TgtdServer#kill}: a new tgtd behind the same portal with the same target and
     * LUN file, as a crashed target that comes back.
     */
    void restart() throws IOException {
        int port = tgtd.port();
        tgtd.close(); // a killed tgtd: nothing left to stop
        TgtdServer again = TgtdServer.start(dir, port);
        try {
            TgtdServer.Target t = again.createTarget(TARGET);
            Path file = again.addLun(t, 1, lunBytes);
            if (!t.equals(target) || !file.equals(lunFile)) {
                throw new IllegalStateException("the restarted tgtd has " + t + " and " + file + ", not " + target + " and " + lunFile);
            }
        } catch (RuntimeException e) {
            again.close();
            throw e;
        }
        tgtd = again;
    }

    SessionOptions.Builder options() {
        return SessionOptions.builder().portal(tgtd.host(), tgtd.port()).targetName(TARGET).initiatorName(INITIATOR)
                .loginTimeout(Duration.ofSeconds(10)).commandTimeout(Duration.ofSeconds(20));
    }

    @Override
    public void close() {
        try {
            tgtd.close();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + dir, e);
            }
        }
    }
}
