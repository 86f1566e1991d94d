package io.ostia.initiator;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.testing.TgtdServer;
import io.ostia.transport.tcp.TcpTransports;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A tgtd with one target and LUN 1, and an initiator over a fresh TCP transport. */
final class TgtdFixture implements AutoCloseable {
    static final String TARGET = "iqn.2026-11.io.ostia.test:initiator-it";
    static final String INITIATOR = "iqn.2026-11.io.ostia.test:client";

    final TgtdServer tgtd;
    final TgtdServer.Target target;
    final Path lunFile;
    final IscsiTransport transport;
    final ClosableInitiator initiator;

    private TgtdFixture(TgtdServer tgtd, TgtdServer.Target target, Path lunFile) {
        this.tgtd = tgtd;
        this.target = target;
        this.lunFile = lunFile;
        this.transport = TcpTransports.create();
        this.initiator = Initiators.create(List.of(transport));
    }

    /** @param parameters target parameters as name=value, such as HeaderDigest=CRC32C,None */
    static TgtdFixture start(Path dir, long lunBytes, String... parameters) throws IOException {
        assumeTrue(TgtdServer.unavailability().isEmpty(), () -> "tgtd cannot run here: " + TgtdServer.unavailability().get());
        TgtdServer tgtd = TgtdServer.start(dir);
        try {
            TgtdServer.Target target = tgtd.createTarget(TARGET);
            Path file = tgtd.addLun(target, 1, lunBytes);
            for (String p : parameters) {
                int eq = p.indexOf('=');
                tgtd.setParameter(target, p.substring(0, eq), p.substring(eq + 1));
            }
            return new TgtdFixture(tgtd, target, file);
        } catch (RuntimeException e) {
            tgtd.close();
            throw e;
        }
    }

    SessionOptions.Builder options() {
        return SessionOptions.builder().portal(tgtd.host(), tgtd.port()).targetName(TARGET).initiatorName(INITIATOR)
                .loginTimeout(Duration.ofSeconds(10)).commandTimeout(Duration.ofSeconds(20));
    }

    @Override
    public void close() {
        try {
            initiator.close();
            transport.close();
        } finally {
            tgtd.close();
        }
    }
}
