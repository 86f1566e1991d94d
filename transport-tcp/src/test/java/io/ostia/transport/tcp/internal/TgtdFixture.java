package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ostia.testing.TgtdServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/** One tgtd with one target and a 64 MiB LUN 1 per test class. */
final class TgtdFixture implements AutoCloseable {

    static final long LUN_SIZE = 64L << 20;

    final TgtdServer server;
    final TgtdServer.Target target;
    final Path backingFile;

    private TgtdFixture(TgtdServer server, TgtdServer.Target target, Path backingFile) {
        this.server = server;
        this.target = target;
        this.backingFile = backingFile;
    }

    /** Starts tgtd, or skips the calling test with a message naming tgtd when it cannot run here. */
    static TgtdFixture start(Path workDir, String targetSuffix) throws IOException {
        String why = TgtdServer.unavailability().orElse(null);
        assumeTrue(why == null, () -> "tgtd (Debian package tgt) is needed for this test: " + why);
        TgtdServer server = TgtdServer.start(workDir);
        try {
            TgtdServer.Target target = server.createTarget("iqn.2026-11.io.ostia.test:" + targetSuffix);
            Path file = server.addLun(target, 1, LUN_SIZE);
            // tgtd offers no digests unless told to; allow both so each test chooses.
            for (String key : new String[] {"HeaderDigest", "DataDigest"}) {
                server.tgtadm("--mode", "target", "--op", "update", "--tid", Integer.toString(target.tid()),
                        "--name", key, "--value", "CRC32C,None");
            }
            // InitialR2T=No lets tests that offer No send unsolicited Data-Out (RFC 7143: an OR).
            server.tgtadm("--mode", "target", "--op", "update", "--tid", Integer.toString(target.tid()),
                    "--name", "InitialR2T", "--value", "No");
            // Several R2Ts outstanding per task, for tests that offer more than one.
            server.tgtadm("--mode", "target", "--op", "update", "--tid", Integer.toString(target.tid()),
                    "--name", "MaxOutstandingR2T", "--value", "8");
            return new TgtdFixture(server, target, file);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.host(), server.port());
    }

    @Override
    public void close() {
        server.close();
    }
}
