package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.initiator.WriteVerifyLoad;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code ostia swap}: moves one session between transports again and again while a
 * write-and-verify load runs on its LUN, prints each move's I/O pause, the median and worst, and
 * the failed I/O (reading every acknowledged write back at the end). Without a URL it runs
 * against the embedded target on loopback.
 */
final class SwapCommand implements Main.Command {

    private static final long EMBEDDED_BYTES = 64L << 20;
    private static final Duration STOP_BOUND = Duration.ofSeconds(30);

    @Override
    public String usage() {
        return """
                Usage: ostia swap [-n swaps] [-p ms] [--to tcp,iser] [-m writers] [options] [-w iscsi://host[:port]/target-iqn/lun]
                  Moves a session between transports under a write-and-verify load and prints each move's
                  I/O pause and the failed I/O. Without a URL: against the embedded target on loopback (TCP).
                  -n, --swaps n      moves to make (10)
                  -p, --period ms    load time before each move (200)
                  --to a,b           transports to move to, in turn (those of --transport)
                  -m, --writers n    writers of the load, each with one command in flight (8)
                  -w, --write        required with a URL: the load overwrites the LUN
                """ + Connection.USAGE;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.union(Connection.FLAGS, Set.of("w")),
                Connection.union(Connection.VALUES, Set.of("n", "p", "to", "m")),
                Connection.union(Connection.ALIASES, Map.of("swaps", "n", "period", "p", "writers", "m", "write", "w")));
        int swaps = args.intValue("n", 10, 1, 100_000);
        int period = args.intValue("p", 200, 0, 3_600_000);
        int writers = args.intValue("m", 8, 1, 256);
        Optional<String> given = args.optional("iSCSI URL of a LUN");
        if (given.isPresent() && !args.flag("w")) {
            throw new Args.UsageException("the load overwrites the LUN: give -w to agree");
        }
        try (EmbeddedTarget embedded = given.isEmpty()
                ? EmbeddedTarget.start(EMBEDDED_BYTES, "Ostia swap", List.of("tcp"), out) : null) {
            IscsiUrl url = embedded != null ? embedded.url() : IscsiUrl.parse(given.get());
            url.requireTarget();
            int lun = url.lun().orElseThrow(() -> new IllegalArgumentException("the URL names no LUN: " + url));
            SessionOptions options = Connection.options(args, url).build();
            List<String> to = args.value("to", null) == null ? options.transports()
                    : List.of(args.value("to", null).split(","));
            return swap(url, lun, options, to, swaps, period, writers, out);
        }
    }

    private static int swap(IscsiUrl url, int lunNumber, SessionOptions options, List<String> to, int swaps, int period,
                            int writers, PrintStream out) throws IscsiException {
        try (ClosableInitiator initiator = Initiators.create(); Session session = initiator.login(options)) {
            BlockDevice lun = session.open(lunNumber);
            out.printf(Locale.ROOT, "logged in to %s over %s; available transports %s; %d writers, %d moves to %s%n", url,
                    session.transport(), initiator.transports(), writers, swaps, to);
            List<Duration> pauses = new ArrayList<>();
            WriteVerifyLoad load = new WriteVerifyLoad(lun, writers, Math.max(1, 8192 / lun.blockSize()), lun.blockCount());
            try (load) {
                load.start();
                try {
                    for (int i = 0; i < swaps; i++) {
                        Thread.sleep(period);
                        String from = session.transport();
                        String next = to.get(i % to.size());
                        Duration pause = session.switchTransport(next);
                        pauses.add(pause);
                        out.printf(Locale.ROOT, "move %d: %s -> %s, I/O paused %.1f ms, %d writes so far%n", i + 1, from,
                                session.transport(), pause.toNanos() / 1e6, load.writes());
                    }
                    Thread.sleep(period);
                } finally {
                    if (!load.stop(STOP_BOUND)) {
                        out.println("a writer was still running " + STOP_BOUND.toSeconds() + " s after the load was stopped");
                    }
                }
                long checked = load.verifyAll();
                long failed = load.failures() + load.mismatches();
                List<Duration> sorted = pauses.stream().sorted().toList();
                out.printf(Locale.ROOT, "pause over %d moves: median %.1f ms, worst %.1f ms%n", sorted.size(),
                        sorted.get(sorted.size() / 2).toNanos() / 1e6, sorted.getLast().toNanos() / 1e6);
                out.printf(Locale.ROOT, "writes acknowledged: %d, chunks read back: %d, failed I/O: %d%n", load.writes(),
                        checked, failed);
                load.errors().forEach(e -> out.println("  " + e));
                return failed == 0 ? 0 : 1;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while swapping", e);
        }
    }
}
