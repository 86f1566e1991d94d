package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.Initiator;
import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * Stopping the io.ostia.transport.tcp bundle runs the transport's leaving contract in its order,
 * as seen from outside: the session hears it and moves off the transport before the service is
 * unregistered; while the bundle is stopped new logins fail naming the missing transport and no
 * receive thread is left; starting the bundle brings the transport back.
 */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class TransportLifecycleIT extends InContainerTest {
    private static final String TCP_BUNDLE = "io.ostia.transport.tcp";
    private static final long LUN_BYTES = 64L << 20;
    private static final int CHUNK = 64 << 10;
    private static final Duration BOUND = Duration.ofSeconds(20);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    private Bundle tcp;

    @Before
    public void findTransportBundle() {
        for (Bundle b : context.getBundles()) {
            if (TCP_BUNDLE.equals(b.getSymbolicName())) {
                tcp = b;
            }
        }
        assertNotNull("bundle " + TCP_BUNDLE + " is installed", tcp);
        assertEquals("state of " + TCP_BUNDLE, Bundle.ACTIVE, tcp.getState());
    }

    /** Whatever a test did, the next one finds the transport bundle running. */
    @After
    public void restartTransportBundle() throws Exception {
        if (tcp.getState() != Bundle.ACTIVE) {
            tcp.start();
        }
    }

    @Test
    public void stoppingTheTransportMovesTheSessionBeforeTheServiceGoesAndStartingBringsItBack() throws Exception {
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared();
             Session session = login(t, Duration.ofSeconds(60))) {
            BlockDevice lun = lunWithData(session, arena, 1);

            MemorySegment inFlight = Support.pattern(arena, 4 << 20, 2);
            MemorySegment whileAway = Support.pattern(arena, 1 << 20, 3);
            CompletableFuture<Void> writesInFlight;
            CompletableFuture<Void> writesWhileAway;
            try (Timeline timeline = new Timeline(context,
                    () -> "session on " + session.transport() + (session.isOpen() ? ", open" : ", closed")
                            + ", rx threads " + Support.threads("ostia-tcp-rx"))) {
                // Commands in flight when the bundle stops must finish, not be lost or doubled.
                writesInFlight = Support.startWrites(lun, 0, inFlight, CHUNK);
                tcp.stop();
                timeline.add("bundle stopped");

                // 1. connects refused, 2. the session told, then it logs out and lets go of its
                // connection (3. the drain ends), and 5. the service goes last.
                timeline.assertOrder("new connects are refused", "transport tcp is leaving",
                        "service UNREGISTERING tcp", "TCP transport unregistered", "bundle stopped");
                String atUnregistering = timeline.first("service UNREGISTERING tcp").what();
                assertTrue("when the service went, the session had already left its TCP connection: " + atUnregistering
                                + "\n" + timeline,
                        atUnregistering.contains("session on (reconnecting), open"));
                // 4. nothing was left to force-release: the session let go within the release timeout.
                assertFalse("a connection had to be force-released:\n" + timeline, timeline.contains("force-releasing"));

                writesInFlight.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                Support.await(Duration.ofSeconds(5), () -> "receive threads left: " + Support.threads("ostia-tcp-rx"),
                        () -> Support.threads("ostia-tcp-rx").isEmpty());
                assertFalse("a tcp transport service is registered while its bundle is stopped", transportRegistered());
                assertEquals("transports while the bundle is stopped", List.of(), initiator.transports());

                TransportException refused = assertThrows(TransportException.class,
                        () -> initiator.login(t.options().build()));
                assertTrue(refused.getMessage(), refused.getMessage().contains("tcp (not available)"));

                // The old session waits for a transport; what it is given meanwhile waits too.
                assertTrue("session open while it waits for a transport", session.isOpen());
                assertEquals("(reconnecting)", session.transport());
                writesWhileAway = Support.startWrites(lun, 8 << 20, whileAway, CHUNK);
                Thread.sleep(300);
                assertFalse("a write completed with no transport to carry it", writesWhileAway.isDone());

                tcp.start();
                timeline.add("bundle started");
                timeline.assertOrder("bundle stopped", "service REGISTERED tcp", "bundle started");
                assertTrue("the tcp transport service is back", transportRegistered());
                System.out.println("transport bundle stop and start, as observed:\n" + timeline);
            }
            assertEquals("transports once the bundle is back", List.of("tcp"), initiator.transports());

            // A new session logs in over the new transport and does I/O.
            try (Session fresh = initiator.login(t.options().build())) {
                assertEquals("tcp", fresh.transport());
                Support.writeReadBack(fresh.open(1), arena, 16 << 20, 2 << 20, CHUNK, 4);
            }

            // The old session, still within its 60 s replacement timeout, comes back on it.
            Support.await(BOUND, () -> "the old session is on " + session.transport(),
                    () -> "tcp".equals(session.transport()));
            writesWhileAway.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            Support.assertLunHolds(lun, arena, 0, inFlight, CHUNK);
            Support.assertLunHolds(lun, arena, 8 << 20, whileAway, CHUNK);
        }
    }

    @Test
    public void aSessionWhoseReplacementTimeoutPassesWhileTheTransportIsAwayFailsClearly() throws Exception {
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared();
             Session session = login(t, Duration.ofSeconds(2))) {
            BlockDevice lun = lunWithData(session, arena, 5);
            // The replacement timeout runs from the session's recovery, which begins inside stop().
            long stopping = System.nanoTime();
            tcp.stop();
            CompletableFuture<Void> write = lun.writeAsync(0, arena.allocate(4096));
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> write.get(BOUND.toSeconds(), TimeUnit.SECONDS));
            String message = failed.getCause().getMessage();
            assertTrue(failed.getCause().toString(), failed.getCause() instanceof IscsiException);
            assertTrue(message, message.contains("replacement timeout of 2 s"));
            assertTrue(message, message.contains("tcp (not available)"));
            assertTrue("failed only after the replacement timeout",
                    System.nanoTime() - stopping >= TimeUnit.SECONDS.toNanos(2));
            assertFalse("session open after its replacement timeout", session.isOpen());
            tcp.start();
            // The failed session stays failed: a transport coming back later does not revive it.
            IscsiException closed = assertThrows(IscsiException.class, () -> lun.read(0, arena.allocate(512)));
            assertTrue(closed.getMessage(), closed.getMessage().contains("is closed"));
        }
    }

    private Session login(TgtdTarget t, Duration replacementTimeout) throws IscsiException {
        return initiator.login(t.options().replacementTimeout(replacementTimeout).build());
    }

    /** LUN 1 of {@code session}, once 1 MiB has been written through it and read back. */
    private static BlockDevice lunWithData(Session session, Arena arena, long seed) throws Exception {
        BlockDevice lun = session.open(1);
        Support.writeReadBack(lun, arena, 0, 1 << 20, CHUNK, seed);
        return lun;
    }

    /** The transport service the framework holds now, by its name property. */
    private boolean transportRegistered() throws Exception {
        return !context.getServiceReferences(IscsiTransport.class, "(" + IscsiTransport.NAME_PROPERTY + "=tcp)").isEmpty();
    }
}
