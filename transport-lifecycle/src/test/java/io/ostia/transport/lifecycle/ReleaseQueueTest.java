package io.ostia.transport.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportCapability;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The release queue as iSER uses it, on a transport that has nothing but its lifecycle: work
 * runs in order on its own thread, which ends when the queue is empty, and leaving waits
 * (bounded) for queued work before the leave action.
 */
class ReleaseQueueTest {

    private final List<String> events = new CopyOnWriteArrayList<>();

    @Test
    void workRunsInOrderOnItsOwnThreadWhichEndsWhenTheQueueIsEmpty() throws Exception {
        TransportLifecycle lifecycle = new WireLess().lifecycle;
        CountDownLatch gate = new CountDownLatch(1);
        lifecycle.releaseQueue().submit("release of one", () -> {
            await(gate);
            events.add("one on " + Thread.currentThread().getName());
        });
        lifecycle.releaseQueue().submit("release of two", () -> events.add("two"));
        lifecycle.releaseQueue().submit("release that fails", () -> {
            throw new IllegalStateException("the release went wrong");
        });
        lifecycle.releaseQueue().submit("release of three", () -> events.add("three"));
        assertTrue(!lifecycle.releaseQueue().isIdle(), "work is queued");
        gate.countDown();
        assertEquals(List.of(), lifecycle.releaseQueue().awaitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
        assertEquals(List.of("one on ostia-wireless-release", "two", "three"), events,
                "in order, and a failing release does not stop the queue");
        assertEquals(0, releaseThreads(), "the queue's thread ended once it was empty");
        lifecycle.releaseQueue().submit("release of four", () -> events.add("four"));
        assertEquals(List.of(), lifecycle.releaseQueue().awaitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
        assertEquals("four", events.getLast(), "work queued after an idle spell runs on a new thread");
        assertEquals(0, releaseThreads());
    }

    @Test
    void leavingWaitsForQueuedReleasesBeforeTheLeaveAction() {
        WireLess transport = new WireLess();
        transport.lifecycle.releaseQueue().submit("slow release", () -> {
            sleep(200);
            events.add("released");
        });
        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("released", "leave action"), events);
        assertTrue(tookMillis >= 150 && tookMillis < WireLess.RELEASE_TIMEOUT.toMillis(),
                "waited for the release, not for the timeout: " + tookMillis + " ms");
        assertEquals(0, releaseThreads());
    }

    @Test
    void aReleaseThatOutlivesBothWaitsIsLeftBehindAfterTwoReleaseTimeouts() throws Exception {
        WireLess transport = new WireLess();
        CountDownLatch gate = new CountDownLatch(1);
        transport.lifecycle.releaseQueue().submit("stuck release", () -> {
            await(gate);
            events.add("released");
        });
        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("leave action"), events, "leaving is bounded");
        assertTrue(tookMillis >= 2 * WireLess.RELEASE_TIMEOUT.toMillis(), "drain, then the wait after force-release: "
                + tookMillis + " ms");
        gate.countDown();
        assertEquals(List.of(), transport.lifecycle.releaseQueue().awaitIdle(System.nanoTime()
                + TimeUnit.SECONDS.toNanos(5)));
        assertEquals(List.of("leave action", "released"), events);
    }

    private static int releaseThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().equals("ostia-wireless-release")).count();
    }

    private static void await(CountDownLatch gate) {
        try {
            assertTrue(gate.await(10, TimeUnit.SECONDS), "the test did not open the gate");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A transport that is nothing but its lifecycle: the release queue's own test subject. */
    private final class WireLess implements IscsiTransport {
        static final Duration RELEASE_TIMEOUT = Duration.ofMillis(500);
        final TransportLifecycle lifecycle = new TransportLifecycle(this, "wireless", RELEASE_TIMEOUT,
                () -> events.add("leave action"));

        @Override
        public String name() {
            return "wireless";
        }

        @Override
        public Set<TransportCapability> capabilities() {
            return Set.of();
        }

        @Override
        public TransportEndpoint connect(InetSocketAddress target) throws TransportException {
            throw new TransportException("the wireless transport has no wire to connect " + target + " over");
        }

        @Override
        public TransportConnection createConnection(ConnectionOwner owner, int queueDepth) throws TransportException {
            throw new TransportException("the wireless transport has no wire for a connection");
        }

        @Override
        public void close() {
            lifecycle.leave();
        }
    }
}
