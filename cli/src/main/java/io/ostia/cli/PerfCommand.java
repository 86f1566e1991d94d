package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ostia perf}: keeps {@code -m} requests of {@code -b} blocks in flight against one LUN
 * and reports IOPS and MiB/s each second and at the end, with iscsi-perf's options.
 */
final class PerfCommand implements Main.Command {

    @Override
    public String usage() {
        return """
                Usage: ostia perf [-m depth] [-b blocks] [-r] [-w | --write-percent p] [-d seconds] [-t timeout]
                                  [--warmup seconds] [options] iscsi://host[:port]/target-iqn/lun | --embedded size
                  Measures IOPS and MiB/s, with iscsi-perf's options, and the heap bytes allocated per I/O.
                  -m, --max-requests n   requests in flight (32)
                  -b, --blocks n         blocks per request (8)
                  -r, --random           random offsets
                  -w, --write            write instead of read (destroys data!)
                  --write-percent p      p percent of the requests write, the rest read (destroys data!)
                  -d, --duration s       run time in seconds (10; 0 = until interrupted)
                  -t, --timeout s        command timeout in seconds (30)
                  --warmup s             seconds of load left out of the figures (0)
                  --embedded size        against a RAM LUN of an embedded target in this JVM instead of a URL
                                         (with --transport iser and no RDMA device: on the loopback fabric)
                """ + Connection.USAGE;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.union(Connection.FLAGS, Set.of("r", "w")),
                Connection.union(Connection.VALUES, Set.of("m", "b", "d", "t", "warmup", "embedded", "write-percent")),
                Connection.union(Connection.ALIASES, Map.of("random", "r", "write", "w", "max-requests", "m",
                        "blocks", "b", "duration", "d", "timeout", "t")));
        String embedded = args.value("embedded", null);
        List<String> transports = List.of(args.value("transport", "tcp").split(","));
        try (EmbeddedTarget target = embedded == null ? null
                : EmbeddedTarget.start(Sizes.parse("--embedded", embedded), "Ostia perf", transports, out)) {
            if (target == null && transports.contains("iser")) {
                EmbeddedTarget.iserProvider(out);
            }
            IscsiUrl url = target != null ? target.url() : IscsiUrl.parse(args.single("iSCSI URL of a LUN"));
            return run(args, url, out);
        }
    }

    private int run(Args args, IscsiUrl url, PrintStream out) throws Args.UsageException, IscsiException {
        url.requireTarget();
        int lun = url.lun().orElseThrow(() -> new IllegalArgumentException("the URL names no LUN: " + url));
        int depth = args.intValue("m", 32, 1, 4096);
        int blocks = args.intValue("b", 8, 1, 65535);
        int seconds = args.intValue("d", 10, 0, 86400);
        int timeout = args.intValue("t", 30, 1, 3600);
        int warmup = args.intValue("warmup", 0, 0, 600);
        boolean random = args.flag("r");
        int writePercent = args.intValue("write-percent", args.flag("w") ? 100 : 0, 0, 100);
        if (args.flag("w") && writePercent != 100) {
            throw new Args.UsageException("-w writes only; give either -w or --write-percent, not both");
        }
        // The arena first, so it closes last: the session's close waits for commands still
        // in flight, and only then may their buffers go.
        try (Arena arena = Arena.ofShared();
             ClosableInitiator initiator = Initiators.create();
             Session session = initiator.login(Connection.options(args, url).queueDepth(depth)
                     .commandTimeout(Duration.ofSeconds(timeout)).build())) {
            BlockDevice device = session.open(lun);
            if (device.blockCount() < blocks) {
                throw new IllegalArgumentException("LUN " + lun + " has " + device.blockCount() + " blocks, fewer than -b " + blocks);
            }
            out.printf("connected to %s over %s%n", url, session.transport());
            out.printf("capacity is %d blocks of %d bytes (%s)%n", device.blockCount(), device.blockSize(),
                    LsCommand.humanSize(device.capacity().bytes()));
            out.printf("performing %s %s with %d parallel requests of %d blocks (%d bytes), %s%n",
                    random ? "RANDOM" : "SEQUENTIAL", writePercent == 100 ? "WRITE" : writePercent == 0 ? "READ"
                            : writePercent + "% WRITE", depth, blocks, blocks * device.blockSize(),
                    seconds == 0 ? "until interrupted" : seconds + " s");
            Workload run = new Workload(device, arena, depth, blocks, random ? 1.0 : 0.0, writePercent / 100.0);
            Thread hook = new Thread(run::stop, "ostia-perf-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                run.execute(warmup, seconds, out);
            } finally {
                removeHook(hook);
            }
            run.throwFailure();
        }
        return 0;
    }

    static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down (interrupted run): the hook has done its part.
        }
    }
}
