package io.ostia.transport.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The transport SPI's lifecycle contract, which every transport runs with a subclass (as
 * {@code VerbsContract} runs against every RDMA provider): the connection orders of
 * {@link TransportConnection} (second bind, bind of a disconnected or dying endpoint, stop
 * without bind, stop twice, both teardown orders, stop from inside an owner callback) and the
 * leaving order of {@link IscsiTransport} (notify, drain, force-release, the leave action last),
 * observed as an ordered event log, with no thread or descriptor left after each test.
 *
 * <p>A subclass supplies a real peer (a target listening on a portal the transport can reach),
 * the transport under test and the prefix of its thread names; the peer runs for the whole
 * class. The contract talks to the peer only through the SPI: a Login Request it answers is
 * the one PDU it needs, to get an owner callback from the transport's receive side.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TransportContract {

    /** Generous bound for anything that involves the peer. */
    protected static final Duration WAIT = Duration.ofSeconds(10);
    /** The session queue depth every connection of the suite is created with. */
    protected static final int QUEUE_DEPTH = 16;
    /** Short, so that leaving with an owner that stays does not slow the suite down. */
    protected static final Duration RELEASE_TIMEOUT = Duration.ofMillis(600);

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger leaveActions = new AtomicInteger();
    /** Run as the leave action begins, to log what was released by then. */
    private final List<Runnable> atLeaveAction = new CopyOnWriteArrayList<>();
    private IscsiTransport transport;
    private int threadsBefore;
    private List<String> descriptorsBefore;

    /** Starts the real peer; called once before the tests. */
    protected abstract void startPeer() throws Exception;

    /** Stops the real peer; called once after the tests. */
    protected abstract void stopPeer() throws Exception;

    /** Where the peer listens. */
    protected abstract InetSocketAddress peer();

    /**
     * The transport under test, with {@code releaseTimeout} as its release timeout and
     * {@code afterLeaving} as the last step of its leaving (as the OSGi component's
     * unregistration).
     */
    protected abstract IscsiTransport newTransport(Duration releaseTimeout, Runnable afterLeaving);

    /** The prefix of the names of every thread the transport starts, for the leak count. */
    protected abstract String threadNamePrefix();

    @BeforeAll
    final void startPeerAndWarmUp() throws Exception {
        startPeer();
        // One whole cycle first, so that descriptors the JDK opens once for good (NIO's, the
        // native library's) are in the baseline rather than counted as a leak.
        IscsiTransport warm = newTransport(RELEASE_TIMEOUT, () -> { });
        try {
            TransportEndpoint endpoint = up(warm);
            TransportConnection connection = warm.createConnection(new ContractOwner("warm-up", events), QUEUE_DEPTH);
            connection.bind(endpoint, true);
            endpoint.disconnect();
            connection.stop(StopMode.TERMINATE);
            connection.destroy();
        } finally {
            warm.close();
        }
    }

    @AfterAll
    final void stopThePeer() throws Exception {
        stopPeer();
    }

    @BeforeEach
    final void openTransport() {
        events.clear();
        atLeaveAction.clear();
        threadsBefore = settle(this::transportThreads, 0);
        descriptorsBefore = descriptors();
        transport = newTransport(RELEASE_TIMEOUT, () -> {
            leaveActions.incrementAndGet();
            atLeaveAction.forEach(Runnable::run);
            events.add("leave action");
        });
    }

    @AfterEach
    final void closeAndCountWhatIsLeft() {
        transport.close();
        assertTrue(leaveActions.get() <= 1, "the leave action ran " + leaveActions.get() + " times");
        leaveActions.set(0);
        assertEquals(threadsBefore, settle(this::transportThreads, threadsBefore),
                () -> "threads left: " + threadNames());
        // Compared as sets: the peer, in this JVM too, may close sockets of earlier tests meanwhile.
        assertEquals(0, settle(() -> added(descriptorsBefore, descriptors()).size(), 0),
                () -> "descriptors left: " + added(descriptorsBefore, descriptors()));
    }

    // ------------------------------------------------------------------ the connection's orders

    @Test
    void aSecondBindIsRefusedAndChangesNothing() throws Exception {
        TransportEndpoint endpoint = up(transport);
        ContractOwner owner = owner("a");
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.bind(endpoint, true);
        TransportException twice = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(twice.getMessage().contains("already bound"), twice.getMessage());
        TransportConnection other = transport.createConnection(owner("b"), QUEUE_DEPTH);
        TransportException taken = assertThrows(TransportException.class, () -> other.bind(endpoint, true));
        assertTrue(taken.getMessage().contains(String.valueOf(peer().getPort())), taken.getMessage());
        // The first bind still carries PDUs.
        connection.sendPdu(loginRequest());
        assertInstanceOf(LoginResponse.class, owner.next(WAIT.toMillis()));
        endpoint.disconnect();
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        other.destroy();
        assertEquals(List.of(), owner.failures, "no failure reported");
    }

    @Test
    void aBindOfADisconnectedEndpointIsRefused() throws Exception {
        TransportEndpoint endpoint = up(transport);
        endpoint.disconnect();
        TransportConnection connection = transport.createConnection(owner("a"), QUEUE_DEPTH);
        TransportException refused = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(refused.getMessage().contains("disconnected"), refused.getMessage());
        assertNull(endpoint.localAddress(), "no local address once down");
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
    }

    /** Disconnected while a connection is bound: its release waits for that stop; no one else may bind it. */
    @Test
    void aBindOfADyingEndpointIsRefused() throws Exception {
        TransportEndpoint endpoint = up(transport);
        TransportConnection first = transport.createConnection(owner("a"), QUEUE_DEPTH);
        first.bind(endpoint, true);
        endpoint.disconnect();
        TransportConnection second = transport.createConnection(owner("b"), QUEUE_DEPTH);
        TransportException refused = assertThrows(TransportException.class, () -> second.bind(endpoint, true));
        assertTrue(refused.getMessage().contains(String.valueOf(peer().getPort())), refused.getMessage());
        first.stop(StopMode.TERMINATE);
        first.destroy();
        second.destroy();
    }

    @Test
    void aDestroyedConnectionCannotBeBound() throws Exception {
        TransportConnection connection = transport.createConnection(owner("a"), QUEUE_DEPTH);
        connection.destroy();
        connection.destroy();
        TransportEndpoint endpoint = up(transport);
        TransportException refused = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(refused.getMessage().contains("destroyed"), refused.getMessage());
        assertTrue(endpoint.localAddress() != null, "a refused bind leaves the endpoint up");
        endpoint.disconnect();
    }

    @Test
    void stopWithoutBindAndStopTwiceAreNoOps() throws Exception {
        ContractOwner owner = owner("a");
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.stop(StopMode.TERMINATE);
        connection.stop(StopMode.RECOVER);
        TransportException notBound = assertThrows(TransportException.class, () -> connection.sendPdu(loginRequest()));
        assertTrue(notBound.getMessage().contains("not bound"), notBound.getMessage());
        TransportEndpoint endpoint = up(transport);
        connection.bind(endpoint, true);
        connection.stop(StopMode.TERMINATE);
        connection.stop(StopMode.TERMINATE);
        TransportException stopped = assertThrows(TransportException.class, () -> connection.sendPdu(loginRequest()));
        assertTrue(stopped.getMessage().contains("stopped"), stopped.getMessage());
        endpoint.disconnect();
        connection.destroy();
        assertEquals(List.of(), owner.failures, "no failure reported");
    }

    /** The session layer's logout order: disconnect, then stop, then destroy. */
    @Test
    void disconnectThenStopReleasesEverything() throws Exception {
        ContractOwner owner = owner("a");
        TransportEndpoint endpoint = up(transport);
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.bind(endpoint, true);
        loggedInOnce(connection, owner);
        endpoint.disconnect();
        TransportException down = assertThrows(TransportException.class, () -> connection.sendPdu(loginRequest()));
        assertTrue(down.getMessage().contains("disconnected"), down.getMessage());
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        assertEquals(List.of(), owner.failures, "an owner's own disconnect is no failure");
    }

    /** The older order: stop, destroy, then disconnect. */
    @Test
    void stopDestroyThenDisconnectReleasesEverything() throws Exception {
        ContractOwner owner = owner("a");
        TransportEndpoint endpoint = up(transport);
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.bind(endpoint, true);
        loggedInOnce(connection, owner);
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        endpoint.disconnect();
        endpoint.disconnect();
        assertEquals(List.of(), owner.failures, "no failure reported");
    }

    /** A stop from the thread that makes the owner calls returns, and no call comes after it. */
    @Test
    void stopFromInsideAnOwnerCallback() throws Exception {
        ContractOwner owner = owner("a");
        TransportEndpoint endpoint = up(transport);
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.bind(endpoint, true);
        owner.onPdu = pdu -> {
            connection.stop(StopMode.RECOVER);
            events.add("a stopped inside the callback");
        };
        connection.sendPdu(loginRequest());
        owner.next(WAIT.toMillis());
        assertEquals(List.of("a received LOGIN_RESPONSE", "a stopped inside the callback"), events);
        TransportException stopped = assertThrows(TransportException.class, () -> connection.sendPdu(loginRequest()));
        assertTrue(stopped.getMessage().contains("stopped"), stopped.getMessage());
        connection.stop(StopMode.TERMINATE); // a second stop, from another thread, is still a no-op
        endpoint.disconnect();
        connection.destroy();
        Thread.sleep(100);
        assertEquals(List.of("a received LOGIN_RESPONSE", "a stopped inside the callback"), events,
                "no owner call after the stop");
        assertEquals(List.of(), owner.failures, "no failure reported");
    }

    // ------------------------------------------------------------------ leaving

    /**
     * One transport with every kind of connection when it leaves: "stays" is bound and ignores
     * the news, "moves" is bound and lets go as the session layer does, "idle" is created and
     * never bound, and one endpoint is half-connected (connect started, never polled). In the
     * event log: both bound owners are told, "moves" lets go, "stays" is force-released
     * (failed, then stopped) after the release timeout, the half-connected endpoint is gone,
     * and the leave action comes last.
     */
    @Test
    void leavingNotifiesDrainsForceReleasesAndRunsTheLeaveActionLast() throws Exception {
        TransportEndpoint stayingEndpoint = up(transport);
        ContractOwner staying = owner("stays");
        TransportConnection stays = transport.createConnection(staying, QUEUE_DEPTH);
        stays.bind(stayingEndpoint, true);
        TransportEndpoint movingEndpoint = up(transport);
        ContractOwner moving = owner("moves");
        TransportConnection moves = transport.createConnection(moving, QUEUE_DEPTH);
        moves.bind(movingEndpoint, true);
        ContractOwner idling = owner("idle");
        TransportConnection idle = transport.createConnection(idling, QUEUE_DEPTH);
        TransportEndpoint halfConnected = transport.connect(peer());
        List<String> refusedWhileLeaving = new CopyOnWriteArrayList<>();
        moving.onLeaving = leaving -> {
            refusedWhileLeaving.add(refusal(() -> transport.connect(peer())));
            // A session moves away asynchronously: logout, disconnect, stop, destroy.
            Thread.ofPlatform().start(() -> {
                events.add("moves lets go");
                movingEndpoint.disconnect();
                moves.stop(StopMode.TERMINATE);
                moves.destroy();
            });
        };
        atLeaveAction.add(() -> events.add("half-connected endpoint "
                + (isReleased(halfConnected) ? "released" : "still open") + " at the leave action"));

        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        List<String> log = List.copyOf(events);
        assertTrue(log.indexOf("stays told leaving") >= 0 && log.indexOf("moves told leaving") >= 0, log::toString);
        assertTrue(log.indexOf("moves told leaving") < log.indexOf("moves lets go"), log::toString);
        assertTrue(log.indexOf("moves lets go") < log.indexOf("stays failed"), "drain before force-release: " + log);
        assertTrue(log.indexOf("stays told leaving") < log.indexOf("stays failed"), log::toString);
        assertEquals(List.of("half-connected endpoint released at the leave action", "leave action"),
                log.subList(log.size() - 2, log.size()), "the leave action last: " + log);
        assertTrue(log.stream().noneMatch(event -> event.startsWith("idle ")), "an unbound connection's owner "
                + "hears nothing: " + log);
        assertTrue(log.stream().noneMatch(event -> event.equals("moves failed")), "moves was not force-released: "
                + log);
        assertTrue(tookMillis >= RELEASE_TIMEOUT.toMillis(), "waited for stays: " + tookMillis + " ms");
        assertEquals(1, refusedWhileLeaving.size());
        assertTrue(refusedWhileLeaving.getFirst().contains("leaving"), refusedWhileLeaving::toString);
        assertTrue(staying.failures.getFirst().getMessage().contains("left"), staying.failures::toString);
        // stays was stopped by the force-release: it carries nothing now; its owner's late teardown is harmless.
        TransportException stopped = assertThrows(TransportException.class, () -> stays.sendPdu(loginRequest()));
        assertTrue(stopped.getMessage().contains("stopped"), stopped.getMessage());
        stayingEndpoint.disconnect();
        stays.stop(StopMode.RECOVER);
        stays.destroy();
        idle.destroy();
        halfConnected.disconnect();
        assertEquals(1, staying.failures.size(), "force-release reports once");
    }

    @Test
    void leavingEndsAtOnceWhenEveryOwnerLetsGo() throws Exception {
        TransportEndpoint endpoint = up(transport);
        ContractOwner owner = owner("a");
        TransportConnection connection = transport.createConnection(owner, QUEUE_DEPTH);
        connection.bind(endpoint, true);
        owner.onLeaving = leaving -> Thread.ofPlatform().start(() -> {
            events.add("a lets go");
            endpoint.disconnect();
            connection.stop(StopMode.TERMINATE);
            connection.destroy();
        });
        long start = System.nanoTime();
        transport.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of("a told leaving", "a lets go", "leave action"), events);
        assertTrue(tookMillis < RELEASE_TIMEOUT.toMillis(), "no wait for the release timeout: " + tookMillis + " ms");
        assertTrue(refusal(() -> transport.connect(peer())).contains("closed"), "connects refused once left");
        assertThrows(TransportException.class, () -> transport.createConnection(owner("b"), QUEUE_DEPTH));
        assertEquals(List.of(), owner.failures, "no failure reported");
    }

    @Test
    void leavingTwiceRunsTheLeaveActionOnce() {
        transport.close();
        transport.close();
        assertEquals(List.of("leave action"), events);
        assertEquals(1, leaveActions.get());
    }

    // ------------------------------------------------------------------ helpers

    /** A new owner writing into this test's event log. */
    protected final ContractOwner owner(String name) {
        return new ContractOwner(name, events);
    }

    /** An endpoint of {@code on} to the peer, polled up. */
    protected final TransportEndpoint up(IscsiTransport on) throws Exception {
        TransportEndpoint endpoint = on.connect(peer());
        assertTrue(endpoint.poll(WAIT), () -> "the endpoint to " + peer() + " did not come up within " + WAIT);
        return endpoint;
    }

    /** One Login Request answered: the receive side works and calls the owner. */
    private static void loggedInOnce(TransportConnection connection, ContractOwner owner) throws Exception {
        connection.sendPdu(loginRequest());
        assertInstanceOf(LoginResponse.class, owner.next(WAIT.toMillis()));
    }

    /** A discovery session's first Login Request, which any target answers with a Login Response. */
    protected static LoginRequest loginRequest() {
        byte[] text = ("InitiatorName=iqn.2026-01.io.ostia:contract\0SessionType=Discovery\0AuthMethod=None\0")
                .getBytes(StandardCharsets.US_ASCII);
        return new LoginRequest(true, false, LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                0, 0, 0x00023d000001L, 0, 0, 0, 0, 0, MemorySegment.ofArray(text));
    }

    private static boolean isReleased(TransportEndpoint endpoint) {
        try {
            endpoint.poll(Duration.ZERO);
            return false;
        } catch (TransportException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private interface Attempt {
        Object run() throws Exception;
    }

    /** The message of the TransportException {@code attempt} throws, or "accepted". */
    private static String refusal(Attempt attempt) {
        try {
            Object accepted = attempt.run();
            if (accepted instanceof TransportEndpoint endpoint) {
                endpoint.disconnect();
            }
            return "accepted";
        } catch (TransportException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError("expected a TransportException, got " + e, e);
        }
    }

    private int transportThreads() {
        return threadNames().size();
    }

    private List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.startsWith(threadNamePrefix())).sorted().toList();
    }

    /** What each open descriptor of this process points at, sorted; without the listing's own. */
    private static List<String> descriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return fd.getFileName() + "->" + Files.readSymbolicLink(fd);
                } catch (IOException e) {
                    return fd.getFileName() + "->(gone)";
                }
            }).filter(link -> !link.endsWith("/fd") && !link.endsWith("->(gone)")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc/self/fd", e);
        }
    }

    private static List<String> added(List<String> before, List<String> after) {
        List<String> added = new ArrayList<>(after);
        added.removeAll(before);
        return added;
    }

    /** Waits up to 5 s for {@code count} to come down to {@code expected}, and returns what it is then. */
    private static int settle(IntSupplier count, int expected) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        int now = count.getAsInt();
        while (now > expected && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + expected, e);
            }
            now = count.getAsInt();
        }
        return now;
    }
}
