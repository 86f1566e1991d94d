package io.ostia.distribution.demo;

import io.ostia.api.BlockDevice;
import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.initiator.WriteVerifyLoad;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The use case Ostia is for, in a running Felix: a session carries a write-and-verify load over
 * TCP; the iSER bundle is installed and started and the session switched to it; the bundle is
 * stopped and the session falls back to TCP by itself. Prints each move's I/O pause and, at the
 * end, the writes made and the failed I/O (which must be zero) after reading every acknowledged
 * write back. iSER runs on the host's RDMA devices, or on the in-JVM loopback fabric where
 * there are none.
 */
final class SwapDemo {

    private static final String TARGET = "iqn.2026-12.io.ostia.demo:swap";
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final Duration PHASE = Duration.ofSeconds(1);
    private static final String ISER_PID = "io.ostia.transport.iser";

    private final BundleContext context;
    private final PrintStream out;
    /** Open while the demo uses their services. */
    private final List<ServiceTracker<?, ?>> trackers = new ArrayList<>();

    SwapDemo(BundleContext context, PrintStream out) {
        this.context = context;
        this.out = out;
    }

    /** True when every I/O succeeded and read back. */
    boolean run() throws Exception {
        try {
            return demo();
        } finally {
            trackers.forEach(ServiceTracker::close);
        }
    }

    private boolean demo() throws Exception {
        String home = context.getProperty("ostia.home");
        if (home == null) {
            throw new IllegalStateException("framework property ostia.home is not set: start the demo with bin/ostia-felix");
        }
        String provider = rdmaProvider();
        configureIser(provider);
        Initiator initiator = service(Initiator.class);
        LinkedBlockingQueue<SessionEvent.Moved> moves = new LinkedBlockingQueue<>();
        try (IscsiTarget target = startTarget(RdmaProviders.byName(provider))) {
            out.printf(Locale.ROOT, "embedded target %s on 127.0.0.1:%d (TCP, and iSER on the %s provider)%n", TARGET,
                    target.port(), provider);
            Session session = initiator.login(initiator.options().portal("127.0.0.1", target.port()).targetName(TARGET)
                    .transports("iser", "tcp").build());
            session.addListener(e -> {
                if (e instanceof SessionEvent.Moved m) {
                    moves.add(m);
                }
            });
            out.println("session logged in over " + session.transport() + " (iSER is not installed yet)");
            BlockDevice lun = session.open(0);
            WriteVerifyLoad load = new WriteVerifyLoad(lun, 8, 16, lun.blockCount()).start();
            boolean clean;
            try {
                phase(load, "over TCP");

                Bundle iser = context.installBundle(Path.of(home, "hot", "ostia-transport-iser.jar").toUri().toString());
                iser.start();
                await(() -> initiator.transports().contains("iser"), "the iSER transport to register (" + provider + ")");
                out.println("iSER bundle installed and started; transports now " + initiator.transports());
                Duration up = session.switchTransport("iser");
                moves.poll(BOUND.toMillis(), TimeUnit.MILLISECONDS); // the event of the same move
                out.printf(Locale.ROOT, "moved TCP -> iSER (switchTransport): I/O paused %.1f ms%n", millis(up));
                phase(load, "over iSER");

                iser.stop();
                SessionEvent.Moved back = moves.poll(BOUND.toMillis(), TimeUnit.MILLISECONDS);
                if (back == null) {
                    throw new IllegalStateException("the session did not move within " + BOUND.toSeconds()
                            + " s of the iSER bundle stopping; it is on " + session.transport());
                }
                out.printf(Locale.ROOT, "iSER bundle stopped: moved %s -> %s (%s): I/O paused %.1f ms%n", back.from(),
                        back.to(), back.reason(), millis(back.pause()));
                iser.uninstall();
                phase(load, "over TCP again");
            } finally {
                if (!load.stop(BOUND)) {
                    out.println("a writer was still running " + BOUND.toSeconds() + " s after the load was stopped");
                }
            }
            long checked = load.verifyAll();
            long failed = load.failures() + load.mismatches();
            out.printf(Locale.ROOT, "writes acknowledged: %d, chunks read back: %d, failed I/O: %d%n", load.writes(), checked,
                    failed);
            load.errors().forEach(e -> out.println("  " + e));
            clean = failed == 0;
            session.close();
            load.close();
            return clean;
        }
    }

    private void phase(WriteVerifyLoad load, String where) throws InterruptedException {
        long before = load.writes();
        Thread.sleep(PHASE);
        out.printf(Locale.ROOT, "  %d writes verified %s%n", load.writes() - before, where);
    }

    /** The host's RDMA devices when there are any, else the in-JVM loopback fabric. */
    private static String rdmaProvider() {
        RdmaProvider nativeProvider = RdmaProviders.byName(RdmaProviders.NATIVE);
        if (nativeProvider.isAvailable() && !nativeProvider.deviceNames().isEmpty()) {
            return RdmaProviders.NATIVE;
        }
        return RdmaProviders.LOOPBACK;
    }

    private void configureIser(String provider) throws Exception {
        Configuration c = service(ConfigurationAdmin.class).getConfiguration(ISER_PID, "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("provider", provider);
        c.update(properties);
    }

    /**
     * TCP and iSER portals on one port number (iSER's is in the RDMA provider's address space), so
     * one portal address serves both transports. The port is found free by the kernel first; if
     * another process takes it before the target binds it, it is tried again with another.
     */
    private static IscsiTarget startTarget(RdmaProvider rdma) throws IOException {
        BindException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            try {
                return IscsiTarget.builder().portal("127.0.0.1", port).iserPortal("127.0.0.1", port, rdma)
                        .logoutGrace(Duration.ofMillis(200)).target(TARGET, t -> t.ramLun(LUN_BYTES)).build().start();
            } catch (BindException e) {
                last = e;
            }
        }
        throw last;
    }

    private <T> T service(Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        trackers.add(tracker);
        T service = tracker.waitForService(BOUND.toMillis());
        if (service == null) {
            throw new IllegalStateException("no " + type.getName() + " service within " + BOUND.toSeconds() + " s");
        }
        return service;
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("waited " + BOUND.toSeconds() + " s for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}
