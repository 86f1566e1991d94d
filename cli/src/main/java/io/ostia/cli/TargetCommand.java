package io.ostia.cli;

import io.ostia.api.ChapCredentials;
import io.ostia.api.IscsiException;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
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
        Args args = Args.parse(argv, 1, Set.of("r"), Set.of("a", "p", "n", "s", "f", "b", "chap", "iser"),
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
        ChapCredentials chap = args.value("chap", null) == null ? null : parseChap(args.value("chap", null));
        String iser = args.value("iser", null);
        RdmaProvider rdma = iser == null ? null : rdmaProvider(iser);
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            IscsiTarget.Builder builder = IscsiTarget.builder();
            if (rdma == null) {
                builder.portal(address, port);
            } else {
                builder.iserPortal(address, port, rdma);
            }
            IscsiTarget target = builder
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
            out.printf("serving iscsi://%s:%d/%s/0 (%s, %d-byte blocks%s%s); Ctrl-C stops%n", address, target.port(),
                    iqn, LsCommand.humanSize(size), blockSize, args.flag("r") ? ", read-only" : "",
                    rdma == null ? "" : ", iSER on " + rdma.name() + " RDMA");
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

    /** The RDMA provider --iser names: native (RDMA hardware, Soft-RoCE) or loopback (this JVM only). */
    private static RdmaProvider rdmaProvider(String name) throws Args.UsageException {
        if (!name.equals("native") && !name.equals("loopback")) {
            throw new Args.UsageException("--iser takes native or loopback, not " + name);
        }
        RdmaProvider provider = RdmaProviders.byName(name);
        if (!provider.isAvailable()) {
            throw new Args.UsageException("--iser " + name + ": " + provider.unavailabilityCause().getMessage());
        }
        return provider;
    }

    private static ChapCredentials parseChap(String value) throws Args.UsageException {
        int pct = value.indexOf('%');
        if (pct <= 0 || pct == value.length() - 1) {
            throw new Args.UsageException("--chap takes user%secret");
        }
        return ChapCredentials.oneWay(value.substring(0, pct), value.substring(pct + 1));
    }
}
