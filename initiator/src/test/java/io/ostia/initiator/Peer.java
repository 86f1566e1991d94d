package io.ostia.initiator;

import io.ostia.api.ChapCredentials;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.transport.tcp.TcpTransports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A real iSCSI target for the initiator's tests, with one file-backed LUN that tests can compare
 * with what they wrote, and an initiator over a fresh TCP transport.
 */
abstract class Peer implements AutoCloseable {
    static final String INITIATOR = "iqn.2026-11.io.ostia.test:client";

    final IscsiTransport transport = TcpTransports.create();
    final ClosableInitiator initiator = Initiators.create(List.of(transport));

    /** What to start: LUN size and, optionally, CHAP the target requires (mutual when the credentials say so). */
    record Config(long lunBytes, Optional<ChapCredentials> chap) {
        static Config of(long lunBytes) {
            return new Config(lunBytes, Optional.empty());
        }

        Config withChap(ChapCredentials credentials) {
            return new Config(lunBytes, Optional.of(credentials));
        }
    }

    abstract String host();

    abstract int port();

    abstract String targetName();

    /** The LUN of the test disk. */
    abstract int lun();

    /** Every LUN REPORT LUNS should list. */
    abstract List<Integer> allLuns();

    abstract String vendor();

    /** The test disk's backing file, to compare with what was written. */
    abstract Path lunFile();

    /** Makes the target vanish at once, as a crash would. */
    abstract void kill();

    abstract void stopTarget();

    SessionOptions.Builder options() {
        return SessionOptions.builder().portal(host(), port()).targetName(targetName()).initiatorName(INITIATOR)
                .loginTimeout(Duration.ofSeconds(10)).commandTimeout(Duration.ofSeconds(20));
    }

    @Override
    public final void close() {
        try {
            initiator.close();
            transport.close();
        } finally {
            stopTarget();
        }
    }
}
