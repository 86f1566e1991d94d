package io.ostia.initiator;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ostia.testing.TgtdServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Linux tgtd on loopback, with digests allowed (tgtd offers only None until told). */
final class TgtdPeer extends Peer {
    static final String TARGET = "iqn.2026-11.io.ostia.test:initiator-it";

    final TgtdServer tgtd;
    final TgtdServer.Target target;
    private final Path lunFile;

    private TgtdPeer(TgtdServer tgtd, TgtdServer.Target target, Path lunFile) {
        this.tgtd = tgtd;
        this.target = target;
        this.lunFile = lunFile;
    }

    static TgtdPeer start(Path dir, Config config) throws IOException {
        assumeTrue(TgtdServer.unavailability().isEmpty(), () -> "tgtd cannot run here: " + TgtdServer.unavailability().get());
        TgtdServer tgtd = TgtdServer.start(dir);
        try {
            TgtdServer.Target target = tgtd.createTarget(TARGET);
            Path file = tgtd.addLun(target, 1, config.lunBytes());
            tgtd.setParameter(target, "HeaderDigest", "CRC32C,None");
            tgtd.setParameter(target, "DataDigest", "CRC32C,None");
            config.chap().ifPresent(chap -> {
                tgtd.requireChap(target, chap.user(), chap.secret());
                chap.targetUser().ifPresent(user -> tgtd.mutualChap(target, user, chap.targetSecret().orElseThrow()));
            });
            return new TgtdPeer(tgtd, target, file);
        } catch (RuntimeException e) {
            tgtd.close();
            throw e;
        }
    }

    @Override
    String host() {
        return tgtd.host();
    }

    @Override
    int port() {
        return tgtd.port();
    }

    @Override
    String targetName() {
        return TARGET;
    }

    @Override
    int lun() {
        return 1;
    }

    @Override
    List<Integer> allLuns() {
        return List.of(0, 1);
    }

    @Override
    String vendor() {
        return "IET";
    }

    @Override
    Path lunFile() {
        return lunFile;
    }

    @Override
    void kill() {
        tgtd.kill();
    }

    @Override
    void stopTarget() {
        tgtd.close();
    }
}
