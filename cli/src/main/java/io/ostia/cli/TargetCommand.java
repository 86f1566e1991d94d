package io.ostia.cli;

import io.ostia.api.ChapCredentials;
import io.ostia.api.IscsiException;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** {@code ostia target}: serves one LUN from Ostia's embedded target until interrupted. */
final class TargetCommand implements Main.Command {

    static final String DEFAULT_IQN = "iqn.2026-11.io.ostia:target";

    @Override
    public String usage() {
        return """
                Usage: ostia target [-a address] [-p port] [-n iqn] [-z size] [-f file] [-b 512|4096] [-r]
                                    [--chap user%secret [--mutual-chap user%secret]] [--iser native|loopback]
                                    [--max-connections n] [--max-connections-per-address n] [--login-timeout s]
                                    [--write-budget size] [--write-share fraction]
                  Serves one LUN from the embedded target until Ctrl-C.
                  -a, --address host     address or host name to listen on (127.0.0.1)
                  -p, --port n           TCP port (3260; 0 picks a free one)
                  -n, --name iqn         the target's name (iqn.2026-11.io.ostia:target)
                  -z, --size n           LUN size, such as 256M; a RAM LUN must fit the JVM's off-heap
                                         memory (256M for RAM; for a file, the file's size)
                  -f, --file path        serve a file; it is created with -z if it does not exist, and
                                         grown or cut to -z only when -z is given
                  -b, --block-size n     512 or 4096 (512)
                  -r, --read-only        refuse writes
                  --removable            report a removable medium (START STOP UNIT ejects it)
                  --physical-block-exponent n   report 2^n logical blocks per physical block (0)
                  --chap user%secret     require CHAP with this initiator user and secret
                  --mutual-chap user%secret   the target's own name and secret for mutual CHAP
                  --iser native|loopback serve iSER on that RDMA provider (native: RDMA devices,
                                         Soft-RoCE included; loopback: this JVM only) instead of TCP
                  --max-connections n    connections accepted at once, logged in or not (1024)
                  --max-connections-per-address n   the same from one IP address (256)
                  --login-timeout s      seconds a connection may take to log in (15)
                  --write-budget size    write data buffered at once for all connections, such as 1G;
                                         beyond it, TASK SET FULL (1G)
                  --write-share f        the fraction of the write budget one connection may hold,
                                         in (0, 1] (0.25)
                """;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Set.of("r", "removable"), Set.of("a", "p", "n", "z", "f", "b", "chap",
                        "mutual-chap", "physical-block-exponent", "iser", "max-connections",
                        "max-connections-per-address", "login-timeout", "write-budget", "write-share"),
                Map.of("address", "a", "port", "p", "name", "n", "size", "z", "file", "f", "block-size", "b",
                        "read-only", "r"));
        String address = args.value("a", "127.0.0.1");
        checkResolvable(address);
        int port = args.intValue("p", 3260, 0, 65535);
        String iqn = args.value("n", DEFAULT_IQN);
        int blockSize = args.intValue("b", 512, 512, 4096);
        if (blockSize != 512 && blockSize != 4096) {
            throw new Args.UsageException("option -b takes 512 or 4096, not " + blockSize);
        }
        String file = args.value("f", null);
        long size = file == null ? Sizes.parse("-z", args.value("z", "256M")) : fileSize(Path.of(file), args);
        LunSpec spec = (file == null ? LunSpec.ram(size) : LunSpec.file(Path.of(file), size))
                .withBlockSize(blockSize).withReadOnly(args.flag("r")).withRemovableMedium(args.flag("removable"))
                .withPhysicalBlockExponent(args.intValue("physical-block-exponent", 0, 0, 15));
        ChapCredentials chap = chap(args);
        int maxConnections = args.intValue("max-connections", 1024, 1, 1 << 20);
        int maxPerAddress = args.intValue("max-connections-per-address", Math.min(256, maxConnections), 1, 1 << 20);
        int loginTimeout = args.intValue("login-timeout", 15, 1, 3600);
        long writeBudget = Sizes.parse("--write-budget", args.value("write-budget", "1G"));
        double writeShare = fraction("--write-share", args.value("write-share", "0.25"));
        String iser = args.value("iser", null);
        RdmaProvider rdma = iser == null ? null : rdmaProvider(iser);
        IscsiTarget target;
        try {
            IscsiTarget.Builder builder = IscsiTarget.builder();
            if (rdma == null) {
                builder.portal(address, port);
            } else {
                builder.iserPortal(address, port, rdma);
            }
            target = builder
                    .maxConnections(maxConnections, maxPerAddress)
                    .loginTimeout(Duration.ofSeconds(loginTimeout))
                    .writeBudget(writeBudget, writeShare)
                    .target(iqn, t -> {
                        t.lun(0, spec);
                        if (chap != null) {
                            t.chap(chap);
                        }
                    }).build();
        } catch (IOException e) {
            throw new IscsiException(e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            // The builder's check of a setting (write budget and share): its message names it.
            throw new Args.UsageException(e.getMessage());
        }
        try (target) {
            target.start();
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                target.close();
                stopped.countDown();
            }, "ostia-target-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                out.printf("serving iscsi://%s:%d/%s/0 (%s, %d-byte blocks%s%s); Ctrl-C stops%n", address,
                        target.port(), iqn, LsCommand.humanSize(size > 0 ? size : Files.size(Path.of(file))), blockSize,
                        args.flag("r") ? ", read-only" : "", rdma == null ? "" : ", iSER on " + rdma.name() + " RDMA");
                out.flush();
                stopped.await();
                return 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            } finally {
                PerfCommand.removeHook(hook);
            }
        } catch (IOException e) {
            throw new IscsiException("cannot start the target on " + address + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** A decimal fraction such as 0.25; the builder checks its range. */
    private static double fraction(String option, String text) throws Args.UsageException {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new Args.UsageException("option " + option + " needs a fraction such as 0.25, got '" + text + "'");
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

    /** An unresolvable address fails here with its name, not later as a bind error without a message. */
    private static void checkResolvable(String address) throws Args.UsageException {
        try {
            java.net.InetAddress.getByName(address);
        } catch (java.net.UnknownHostException e) {
            throw new Args.UsageException("-a " + address + " is neither an IP address nor a host name that resolves");
        }
    }

    /**
     * The LUN size for {@code -f}: {@code -z} when given (the user asked for that size), else the
     * existing file's own size (0 tells the store to keep it); a new file needs {@code -z}.
     */
    private static long fileSize(Path file, Args args) throws Args.UsageException {
        if (args.value("z", null) != null) {
            return Sizes.parse("-z", args.value("z", null));
        }
        if (!Files.exists(file)) {
            Path folder = file.toAbsolutePath().getParent();
            if (folder != null && !Files.isDirectory(folder)) {
                throw new Args.UsageException("-f " + file + ": the folder " + folder + " does not exist");
            }
            throw new Args.UsageException("-f " + file + " does not exist; give -z to create it with that size");
        }
        return 0;
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
