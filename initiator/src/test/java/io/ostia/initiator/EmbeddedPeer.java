package io.ostia.initiator;

import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Ostia's own embedded target on loopback, LUN 0 backed by a file. */
final class EmbeddedPeer extends Peer {
    static final String TARGET = "iqn.2026-11.io.ostia.test:embedded";

    private final IscsiTarget target;
    private final Path lunFile;

    private EmbeddedPeer(IscsiTarget target, Path lunFile) {
        this.target = target;
        this.lunFile = lunFile;
    }

    static EmbeddedPeer start(Path dir, Config config) throws IOException {
        return start(dir, config, b -> b);
    }

    /** With {@code settings} applied to the target's builder (a small write budget, say). */
    static EmbeddedPeer start(Path dir, Config config, java.util.function.UnaryOperator<IscsiTarget.Builder> settings)
            throws IOException {
        Path file = dir.resolve("embedded-lun0.img");
        IscsiTarget target = settings.apply(IscsiTarget.builder().portal("127.0.0.1", 0).logoutGrace(Duration.ofMillis(200)))
                .target(TARGET, t -> {
                    t.lun(0, LunSpec.file(file, config.lunBytes()));
                    config.chap().ifPresent(t::chap);
                }).build().start();
        return new EmbeddedPeer(target, file);
    }

    @Override
    String host() {
        return "127.0.0.1";
    }

    @Override
    int port() {
        return target.port();
    }

    @Override
    String targetName() {
        return TARGET;
    }

    @Override
    int lun() {
        return 0;
    }

    @Override
    List<Integer> allLuns() {
        return List.of(0);
    }

    @Override
    String vendor() {
        return "OSTIA";
    }

    @Override
    Path lunFile() {
        return lunFile;
    }

    @Override
    void kill() {
        target.close();
    }

    @Override
    void stopTarget() {
        target.close();
    }
}
