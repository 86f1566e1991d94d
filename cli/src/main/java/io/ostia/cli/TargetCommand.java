package io.ostia.cli;

import io.ostia.api.ChapCredentials;
import io.ostia.api.IscsiException;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** {@code ostia target}: serves one LUN from Ostia's embedded target until interrupted. */
final class TargetCommand implements Main.Command {

    static final String DEFAULT_IQN = "iqn.2026-11.io.ostia:target";

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Set.of("r"), Set.of("a", "p", "n", "s", "f", "b", "chap", "mutual-chap"),
                Map.of("address", "a", "port", "p", "name", "n", "size", "s", "file", "f", "block-size", "b",
                        "read-only", "r"));
        String address = args.value("a", "127.0.0.1");
        int port = args.intValue("p", 3260, 0, 65535);
        String iqn = args.value("n", DEFAULT_IQN);
        long size = Sizes.parse("-s", args.value("s", "256M"));
        int blockSize = args.intValue("b", 512, 512, 4096);
        if (blockSize != 512 && blockSize != 4096) {
            throw new Args.UsageException("option -b takes 512 or 4096, not " + blockSize);
        }
        LunSpec spec = (args.value("f", null) == null ? LunSpec.ram(size) : LunSpec.file(Path.of(args.value("f", null)), size))
                .withBlockSize(blockSize).withReadOnly(args.flag("r"));
        ChapCredentials chap = chap(args);
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            IscsiTarget target = IscsiTarget.builder().portal(address, port)
                    .target(iqn, t -> {
                        t.lun(0, spec);
                        if (chap != null) {
                            t.chap(chap);
                        }
                    }).build().start();
            Thread hook = new Thread(() -> {
                target.close();
                stopped.countDown();
            }, "ostia-target-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            out.printf("serving iscsi://%s:%d/%s/0 (%s, %d-byte blocks%s); Ctrl-C stops%n", address, target.port(), iqn,
                    LsCommand.humanSize(size), blockSize, args.flag("r") ? ", read-only" : "");
            out.flush();
            stopped.await();
            return 0;
        } catch (IOException e) {
            throw new IscsiException("cannot start the target on " + address + ":" + port + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /**
     * {@code --chap user%secret}: what initiators must answer; {@code --mutual-chap user%secret}
     * adds the target's own name and secret for initiators that ask it to authenticate too.
     */
    private static ChapCredentials chap(Args args) throws Args.UsageException {
        String initiator = args.value("chap", null);
        String target = args.value("mutual-chap", null);
        if (initiator == null) {
            if (target != null) {
                throw new Args.UsageException("--mutual-chap needs --chap user%secret too: in mutual CHAP the"
                        + " initiator authenticates first");
            }
            return null;
        }
        String[] user = userAndSecret("--chap", initiator);
        if (target == null) {
            return ChapCredentials.oneWay(user[0], user[1]);
        }
        String[] own = userAndSecret("--mutual-chap", target);
        return ChapCredentials.mutual(user[0], user[1], own[0], own[1]);
    }

    private static String[] userAndSecret(String option, String value) throws Args.UsageException {
        int pct = value.indexOf('%');
        if (pct <= 0 || pct == value.length() - 1) {
            throw new Args.UsageException(option + " takes user%secret, not '" + value + "'");
        }
        return new String[] {value.substring(0, pct), value.substring(pct + 1)};
    }
}
