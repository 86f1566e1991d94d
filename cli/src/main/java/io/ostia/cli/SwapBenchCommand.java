package io.ostia.cli;

import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.initiator.WriteVerifyLoad;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.iser.internal.IserTransport;
import io.ostia.transport.tcp.TcpTransports;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ostia swap-bench}: the I/O pause of a live transport swap, under a write-and-verify
 * load, on loopback: the embedded target serves TCP and iSER (the JVM's loopback RDMA fabric) on
 * one port, one session moves {@code -n} times each way, and the pauses are printed with their
 * median and worst. The reference in the same run is a fresh login over the same transport
 * (what a swap without a live session would cost at least): the ratio says what the drain,
 * logout and resume add.
 */
final class SwapBenchCommand implements Main.Command {

    private static final String TARGET = "iqn.2026-12.io.ostia:swap-bench";

    @Override
    public String usage() {
        return """
                Usage: ostia swap-bench [-n swaps] [-m writers] [-b blocks]
                  Measures the I/O pause of live transport swaps (TCP->iSER, iSER->TCP, TCP->TCP) under a
                  write-and-verify load against the embedded target on loopback (iSER over the JVM's
                  loopback RDMA fabric), and a fresh login over each transport for reference.
                  -n, --swaps n     swaps per direction (100)
                  -m, --writers n   writers of the load, each with one command in flight (8)
                  -b, --blocks n    blocks per write (16)
                """;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Set.of(), Set.of("n", "m", "b"), Map.of("swaps", "n", "writers", "m", "blocks", "b"));
        int swaps = args.intValue("n", 100, 1, 100_000);
        int writers = args.intValue("m", 8, 1, 256);
        int blocks = args.intValue("b", 16, 1, 2048);
        RdmaProvider fabric = RdmaProviders.byName(RdmaProviders.LOOPBACK);
        int port = freePort();
        IserTransport iser = new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK), () -> { });
        try (IscsiTarget target = startTarget(port, fabric);
             IscsiTransport tcp = TcpTransports.create();
             ClosableInitiator initiator = Initiators.create(List.of(tcp, iser))) {
            SessionOptions options = SessionOptions.builder().portal("127.0.0.1", port).targetName(TARGET)
                    .transports("tcp", "iser").queueDepth(Math.max(writers, 8)).build();
            Map<String, List<Duration>> logins = Map.of("tcp", logins(initiator, options, "tcp", 20),
                    "iser", logins(initiator, options, "iser", 20));
            List<Duration> tcpToIser = new ArrayList<>();
            List<Duration> iserToTcp = new ArrayList<>();
            List<Duration> tcpToTcp = new ArrayList<>();
            Session session = initiator.login(options);
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(0), writers, blocks, Long.MAX_VALUE).start()) {
                swapAll(session, load, swaps, tcpToIser, iserToTcp, tcpToTcp);
                if (!load.stop(Duration.ofSeconds(60))) {
                    err.println("swap-bench: the load did not stop within 60 s");
                    return 1;
                }
                long checked = load.verifyAll();
                out.printf("%-12s %6s %10s %10s %10s %14s %8s%n", "swap", "count", "median", "p90", "worst",
                        "login median", "ratio");
                print(out, "TCP->iSER", tcpToIser, logins.get("iser"));
                print(out, "iSER->TCP", iserToTcp, logins.get("tcp"));
                print(out, "TCP->TCP", tcpToTcp, logins.get("tcp"));
                out.printf("load: %s; %d acknowledged chunks read back at the end%n", load, checked);
                out.println("ratio: median swap pause / median fresh login over the target transport, same run");
                session.close();
                return load.failures() == 0 && load.mismatches() == 0 ? 0 : 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IscsiException("interrupted", e);
            }
        } finally {
            iser.close();
        }
    }

    private static void swapAll(Session session, WriteVerifyLoad load, int swaps, List<Duration> tcpToIser,
                                List<Duration> iserToTcp, List<Duration> tcpToTcp) throws IscsiException, InterruptedException {
        for (int i = 0; i < swaps; i++) {
            underLoad(load);
            tcpToIser.add(session.switchTransport("iser"));
            underLoad(load);
            iserToTcp.add(session.switchTransport("tcp"));
            underLoad(load);
            tcpToTcp.add(session.switchTransport("tcp"));
        }
    }

    /** Lets the load acknowledge some writes between swaps, so each swap meets commands in flight. */
    private static void underLoad(WriteVerifyLoad load) throws IscsiException, InterruptedException {
        if (!load.awaitWrites(10, Duration.ofSeconds(30))) {
            throw new IscsiException("the load stalled between swaps: " + load);
        }
    }

    private static List<Duration> logins(ClosableInitiator initiator, SessionOptions options, String transport, int count)
            throws IscsiException {
        SessionOptions via = options.toBuilder().transports(transport).build();
        List<Duration> times = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            Session s = initiator.login(via);
            times.add(Duration.ofNanos(System.nanoTime() - start));
            s.close();
        }
        return times;
    }

    private static void print(PrintStream out, String what, List<Duration> pauses, List<Duration> logins) {
        List<Duration> sorted = new ArrayList<>(pauses);
        Collections.sort(sorted);
        Duration median = sorted.get(sorted.size() / 2);
        Duration loginMedian = median(logins);
        out.printf("%-12s %6d %8.2f ms %7.2f ms %7.2f ms %11.2f ms %8.2f%n", what, sorted.size(), ms(median),
                ms(sorted.get((int) Math.min(sorted.size() - 1, Math.round(sorted.size() * 0.9)))),
                ms(sorted.getLast()), ms(loginMedian), ms(median) / ms(loginMedian));
    }

    private static Duration median(List<Duration> values) {
        List<Duration> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static double ms(Duration d) {
        return d.toNanos() / 1e6;
    }

    private static IscsiTarget startTarget(int port, RdmaProvider fabric) throws IscsiException {
        try {
            return IscsiTarget.builder().portal("127.0.0.1", port).iserPortal("127.0.0.1", port, fabric)
                    .logoutGrace(Duration.ofMillis(200)).target(TARGET, t -> t.ramLun(64L << 20)).build().start();
        } catch (IOException e) {
            throw new IscsiException("the embedded target could not start on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** A TCP port free now; the iSER portal takes the same number on the JVM's own fabric. */
    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free TCP port on loopback", e);
        }
    }
}
