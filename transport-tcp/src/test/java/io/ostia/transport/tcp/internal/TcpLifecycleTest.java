package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ProtocolException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The SPI's lifecycle orders and failure paths against a scripted peer: the Linux
 * iscsi_transport calling orders (bind twice, bind a dying endpoint, stop without bind, both
 * teardown orders), failure detection, and leaks of threads and descriptors.
 */
class TcpLifecycleTest extends FakeTargetTestBase {

    @Override
    TcpTransport newTransport() {
        return new TcpTransport(TcpTransportOptions.defaults().withReleaseTimeout(Duration.ofSeconds(2))
                .withProgressTimeout(Duration.ofSeconds(3)), () -> { });
    }

    @Test
    void connectToAPortWithNothingListeningFailsInPollNamingTheAddress() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        TransportEndpoint endpoint;
        try {
            endpoint = transport.connect(new InetSocketAddress("127.0.0.1", port));
        } catch (TransportException atOnce) {
            assertTrue(atOnce.getMessage().contains("127.0.0.1:" + port), atOnce.getMessage());
            return;
        }
        TransportException failure = assertThrows(TransportException.class, () -> endpoint.poll(WAIT));
        assertTrue(failure.getMessage().contains("127.0.0.1:" + port), failure.getMessage());
        assertTrue(failure.getMessage().toLowerCase().contains("refused"), failure.getMessage());
        // The failure stays: polling again says the same, and disconnect is still allowed.
        assertThrows(TransportException.class, () -> endpoint.poll(WAIT));
        endpoint.disconnect();
    }

    /**
     * A listener whose accept queue is full drops further SYNs (Linux), so a connect to it
     * stays under way: the endpoint is not up, poll times out with false, and the transport's
     * connect timeout ends it with an error naming the address.
     */
    @Test
    void anEndpointStillConnectingCannotBeBoundAndTimesOut() throws Exception {
        TcpTransport quick = new TcpTransport(TcpTransportOptions.defaults()
                .withConnectTimeout(Duration.ofMillis(700)), () -> { });
        try (java.nio.channels.ServerSocketChannel full = java.nio.channels.ServerSocketChannel.open()) {
            full.bind(new InetSocketAddress("127.0.0.1", 0), 1);
            InetSocketAddress address = (InetSocketAddress) full.getLocalAddress();
            TransportEndpoint endpoint = null;
            for (int attempt = 0; attempt < 8 && endpoint == null; attempt++) {
                TransportEndpoint candidate = quick.connect(address);
                if (candidate.poll(Duration.ofMillis(100))) {
                    candidate.disconnect(); // the queue had room; its slot stays taken until accepted
                } else {
                    endpoint = candidate;
                }
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(endpoint != null,
                    "this kernel accepted every connect into a full listen queue");
            TransportEndpoint connecting = endpoint;
            assertNull(connecting.localAddress(), "no local address before up");
            TransportConnection connection = quick.createConnection(new RecordingOwner(), 32);
            TransportException notUp = assertThrows(TransportException.class, () -> connection.bind(connecting, true));
            assertTrue(notUp.getMessage().contains("not up"), notUp.getMessage());
            TransportException timedOut = assertThrows(TransportException.class,
                    () -> connecting.poll(Duration.ofSeconds(5)));
            assertTrue(timedOut.getMessage().contains(TcpEndpoint.describe(address)), timedOut.getMessage());
            assertTrue(timedOut.getMessage().contains("700 ms"), timedOut.getMessage());
            connecting.disconnect();
            connection.destroy();
        } finally {
            quick.close();
        }
    }

    @Test
    void headerDigestsStartAfterTheFinalLoginResponseAndABadOneFailsTheConnection() throws Exception {
        FakeSession session = FakeSession.bound(transport, target);
        session.login(target);
        session.start(TestParameters.defaultsWith(true, true, true, true));
        io.ostia.api.pdu.PduEncoder digests = new io.ostia.api.pdu.PduEncoder(true, true);
        NopIn ping = new NopIn(0, -1, 0x77, 1, 2, 20, MemorySegment.ofArray(new byte[] {1, 2, 3}));
        target.writeRaw(digests.encode(ping));
        assertEquals(0x77, session.owner.next(NopIn.class, WAIT).targetTransferTag(), "a NOP-In with good digests");
        // The initiator's own PDUs carry digests too now: the target checks them as it decodes.
        target.expectDigests();
        session.connection.sendPdu(new NopOut(true, 0, 0x10, 0x77, 1, 2, Pdu.NO_DATA));
        assertEquals(0x77, ((NopOut) target.read()).targetTransferTag());
        ByteBuffer corrupt = digests.encode(ping);
        corrupt.put(48, (byte) (corrupt.get(48) ^ 0xff));
        target.writeRaw(corrupt);
        ProtocolException cause = assertInstanceOf(ProtocolException.class, session.owner.awaitFailure(WAIT));
        assertEquals("HeaderDigest", cause.field());
        session.end(StopMode.RECOVER);
    }

    @Test
    void unresolvableHostFailsAtOnceNamingIt() {
        TransportException failure = assertThrows(TransportException.class,
                () -> transport.connect(InetSocketAddress.createUnresolved("no-such-host.invalid", 3260)));
        assertTrue(failure.getMessage().contains("no-such-host.invalid:3260"), failure.getMessage());
    }

    @Test
    void bindingTwiceIsAClearErrorAndChangesNothing() throws Exception {
        TransportEndpoint endpoint = FakeSession.connect(transport, target);
        RecordingOwner owner = new RecordingOwner();
        TransportConnection connection = transport.createConnection(owner, 32);
        connection.bind(endpoint, true);
        TransportException twice = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(twice.getMessage().contains("already bound"), twice.getMessage());
        TransportConnection other = transport.createConnection(new RecordingOwner(), 32);
        TransportException taken = assertThrows(TransportException.class, () -> other.bind(endpoint, true));
        assertTrue(taken.getMessage().contains("already carries a connection"), taken.getMessage());
        assertEquals(1, Leaks.receiveThreads() - receiveThreadsBefore(), "one receive thread for the one bind");
        endpoint.disconnect();
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        other.destroy();
        assertTrue(owner.failures.isEmpty(), () -> "no failure reported: " + owner.failures);
    }

    /**
     * An IPv4 target gets an IPv4 socket, not Java's default dual-stack one reaching it through a
     * v4-mapped address (which cost the target CPU per I/O, issue 14). Java reports a v4-mapped
     * local address as IPv4, so the kernel's socket tables tell the family apart.
     */
    @Test
    void anIpv4TargetIsReachedThroughAnIpv4Socket() throws Exception {
        Path v4 = Path.of("/proc/net/tcp");
        Path v6 = Path.of("/proc/net/tcp6");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(v4),
                "no /proc/net/tcp to tell the socket's family (not Linux)");
        org.junit.jupiter.api.Assumptions.assumeTrue(target.address().getAddress() instanceof java.net.Inet4Address,
                "the fake target does not listen on IPv4");
        TransportEndpoint endpoint = FakeSession.connect(transport, target);
        try {
            String local = String.format(":%04X", endpoint.localAddress().getPort());
            String remote = String.format(":%04X", target.address().getPort());
            // Both address columns, as the kernel writes 127.0.0.1 in each table: the local port
            // alone may also be another process's socket towards another peer.
            assertTrue(hasConnection(v4, "0100007F" + local, "0100007F" + remote), "the connection is in /proc/net/tcp");
            String mapped = "0000000000000000FFFF00000100007F";
            assertTrue(!Files.isReadable(v6) || !hasConnection(v6, mapped + local, mapped + remote),
                    "the connection is not a v4-mapped IPv6 socket in /proc/net/tcp6");
        } finally {
            endpoint.disconnect();
        }
    }

    private static boolean hasConnection(Path table, String local, String remote) throws java.io.IOException {
        return Files.readAllLines(table).stream().skip(1).map(line -> line.trim().split("\\s+"))
                .anyMatch(columns -> columns[1].equals(local) && columns[2].equals(remote));
    }

    @Test
    void bindingADisconnectedEndpointIsAClearError() throws Exception {
        TransportEndpoint endpoint = FakeSession.connect(transport, target);
        endpoint.disconnect();
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 32);
        TransportException failure = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(failure.getMessage().contains("disconnected"), failure.getMessage());
        assertNull(endpoint.localAddress(), "no local address once down");
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
    }

    @Test
    void aConnectionNeedsAQueueDepthAndAddsNoLoginKeys() throws Exception {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> transport.createConnection(new RecordingOwner(), 0));
        assertTrue(zero.getMessage().contains("queue depth 0"), zero.getMessage());
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 1);
        assertTrue(connection.loginKeys().isEmpty(), () -> "TCP keeps the session's keys: " + connection.loginKeys());
        connection.destroy();
    }

    @Test
    void stopWithoutBindAndStopTwiceAreNoOps() throws Exception {
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 32);
        connection.stop(StopMode.TERMINATE);
        connection.stop(StopMode.RECOVER);
        TransportException notBound = assertThrows(TransportException.class,
                () -> connection.sendPdu(new NopOut(true, 0, 0x10, -1, 1, 0, Pdu.NO_DATA)));
        assertTrue(notBound.getMessage().contains("not bound"), notBound.getMessage());
        connection.destroy();
        connection.destroy();
        TransportEndpoint endpoint = FakeSession.connect(transport, target);
        TransportException destroyed = assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        assertTrue(destroyed.getMessage().contains("destroyed"), destroyed.getMessage());
        assertTrue(endpoint.localAddress() != null, "a refused bind leaves the endpoint up");
        endpoint.disconnect();
    }

    @Test
    void disconnectBeforeStopReleasesEverythingWithoutAFailureReport() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        session.endpoint.disconnect();
        assertEquals(receiveThreadsBefore(), Leaks.settle(Leaks::receiveThreads, receiveThreadsBefore()),
                "the receive thread ends at the disconnect, before any stop");
        TransportException down = assertThrows(TransportException.class,
                () -> session.connection.sendTask(readTask(1, MemorySegment.ofArray(new byte[512]))));
        assertTrue(down.getMessage().contains("disconnected"), down.getMessage());
        session.end(StopMode.TERMINATE);
        assertTrue(session.owner.failures.isEmpty(), () -> "an owner's own disconnect is no failure: " + session.owner.failures);
    }

    @Test
    void stopBeforeDisconnectReleasesEverything() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        session.connection.stop(StopMode.TERMINATE);
        assertEquals(receiveThreadsBefore(), Leaks.receiveThreads(), "stop joined the receive thread");
        TransportException stopped = assertThrows(TransportException.class,
                () -> session.connection.sendTask(readTask(1, MemorySegment.ofArray(new byte[512]))));
        assertTrue(stopped.getMessage().contains("stopped"), stopped.getMessage());
        session.connection.destroy();
        session.endpoint.disconnect();
        assertTrue(session.owner.failures.isEmpty(), () -> "no failure reported: " + session.owner.failures);
    }

    @Test
    void recoveryBindsTheSameConnectionToANewEndpoint() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        session.endpoint.disconnect();
        session.connection.stop(StopMode.RECOVER);
        TransportEndpoint second = FakeSession.connect(transport, target);
        session.connection.bind(second, true);
        session.login(target);
        session.start(NegotiatedParameters.DEFAULTS);
        second.disconnect();
        session.connection.stop(StopMode.TERMINATE);
        session.connection.destroy();
        assertTrue(session.owner.failures.isEmpty(), () -> "no failure reported: " + session.owner.failures);
    }

    @Test
    void peerClosingTheConnectionIsReportedOnceFromTheReceiveThread() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        target.closeClient();
        Throwable cause = session.owner.awaitFailure(WAIT);
        assertInstanceOf(TransportException.class, cause);
        assertTrue(cause.getMessage().contains("closed the connection"), cause.getMessage());
        assertTrue(session.owner.callbackThreads.stream().allMatch(name -> name.startsWith("ostia-tcp-rx-127.0.0.1:")),
                session.owner.callbackThreads::toString);
        TransportException afterwards = assertThrows(TransportException.class,
                () -> session.connection.sendTask(readTask(1, MemorySegment.ofArray(new byte[512]))));
        assertTrue(afterwards.getMessage().contains("failed"), afterwards.getMessage());
        Thread.sleep(100);
        assertEquals(1, session.owner.failures.size(), "connectionFailed exactly once");
        session.end(StopMode.RECOVER);
    }

    @Test
    void aConnectionResetIsReportedNamingThePeer() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        target.resetClient();
        Throwable cause = session.owner.awaitFailure(WAIT);
        assertInstanceOf(TransportException.class, cause);
        assertTrue(cause.getMessage().contains("127.0.0.1:") && cause.getMessage().toLowerCase().contains("reset"),
                cause.getMessage());
        session.end(StopMode.RECOVER);
        assertEquals(1, session.owner.failures.size(), "connectionFailed exactly once");
    }

    @Test
    void aReservedOpcodeFailsTheConnectionNamingTheField() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        ByteBuffer garbage = ByteBuffer.allocate(48);
        garbage.put(0, (byte) 0x3d);
        target.writeRaw(garbage);
        ProtocolException cause = assertInstanceOf(ProtocolException.class, session.owner.awaitFailure(WAIT));
        assertEquals("Opcode", cause.field());
        assertTrue(cause.getMessage().contains("127.0.0.1"), cause.getMessage());
        session.end(StopMode.RECOVER);
    }

    @Test
    void dataInBeyondTheBufferIsAProtocolErrorNamingBufferOffset() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(4096);
            ProtocolException cause = readWithBadDataIn(buffer, 0, 3584, 1024);
            assertEquals("BufferOffset", cause.field());
            assertTrue(buffer.mismatch(arena.allocate(4096)) < 0, "nothing was written into the buffer");
        }
    }

    @Test
    void dataInOutOfOrderIsAProtocolErrorNamingDataSN() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            ProtocolException cause = readWithBadDataIn(arena.allocate(4096), 1, 0, 512);
            assertEquals("DataSN", cause.field());
        }
    }

    private ProtocolException readWithBadDataIn(MemorySegment buffer, int dataSN, int offset, int length)
            throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        session.connection.sendTask(readTask(7, buffer));
        ScsiCommand command = (ScsiCommand) target.read();
        target.send(new DataIn(false, false, false, false, false, 0, command.lun(), 7, -1, 0, 2, 20, dataSN, offset, 0,
                MemorySegment.ofArray(new byte[length])));
        ProtocolException cause = assertInstanceOf(ProtocolException.class, session.owner.awaitFailure(WAIT));
        session.end(StopMode.RECOVER);
        return cause;
    }

    @Test
    void anR2TLongerThanMaxBurstLengthIsAProtocolError() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(1 << 20);
            session.connection.sendTask(writeTask(9, buffer));
            ScsiCommand command = (ScsiCommand) target.read();
            assertTrue(command.finalFlag(), "InitialR2T=Yes: no unsolicited Data-Out follows");
            target.send(new ReadyToTransfer(command.lun(), 9, 0x55, 0, 2, 20, 0, 0, 1 << 20));
            ProtocolException cause = assertInstanceOf(ProtocolException.class, session.owner.awaitFailure(WAIT));
            assertEquals("DesiredDataTransferLength", cause.field());
            session.end(StopMode.RECOVER);
        }
    }

    @Test
    void aCleanedUpTaskIsNeverWrittenAgain() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(4096);
            TestInitiator.Task task = readTask(11, buffer);
            session.connection.sendTask(task);
            ScsiCommand command = (ScsiCommand) target.read();
            session.connection.cleanupTask(task);
            byte[] ones = new byte[4096];
            java.util.Arrays.fill(ones, (byte) 1);
            target.send(new DataIn(true, false, false, false, true, 0, command.lun(), 11, -1, 0, 2, 20, 0, 0, 0,
                    MemorySegment.ofArray(ones)));
            DataIn late = session.owner.next(DataIn.class, WAIT);
            assertEquals(11, late.initiatorTaskTag(), "the status still reaches the owner, which ignores it");
            assertEquals(0, buffer.get(ValueLayout.JAVA_BYTE, 0), "the cleaned-up buffer was not touched");
            assertTrue(session.owner.failures.isEmpty(), () -> "a late Data-In is no failure: " + session.owner.failures);
        }
        session.end(StopMode.TERMINATE);
    }

    @Test
    void stopFromInsideAnOwnerCallbackDoesNotDeadlock() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        List<String> stoppedOn = new CopyOnWriteArrayList<>();
        session.owner.onFailure = cause -> {
            session.endpoint.disconnect();
            session.connection.stop(StopMode.RECOVER);
            stoppedOn.add(Thread.currentThread().getName());
        };
        target.closeClient();
        session.owner.awaitFailure(WAIT);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (stoppedOn.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, stoppedOn.size(), "the stop inside connectionFailed returned");
        session.connection.stop(StopMode.TERMINATE);
        session.connection.destroy();
    }

    @Test
    void responseStatusAndWindowUpdatesReachTheOwner() throws Exception {
        FakeSession session = FakeSession.started(transport, target);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(8192);
            session.connection.sendTask(readTask(21, buffer));
            ScsiCommand command = (ScsiCommand) target.read();
            byte[] first = new byte[4096];
            java.util.Arrays.fill(first, (byte) 7);
            target.send(new DataIn(false, false, false, false, false, 0, command.lun(), 21, -1, 0, 2, 30, 0, 4096, 0,
                    MemorySegment.ofArray(first)));
            target.send(new DataIn(true, false, false, false, false, 0, command.lun(), 21, -1, 0, 2, 31, 1, 0, 0,
                    MemorySegment.ofArray(new byte[4096])));
            target.send(ScsiResponse.good(21, 5, 2, 32, 2));
            ScsiResponse response = session.owner.next(ScsiResponse.class, WAIT);
            assertEquals(21, response.initiatorTaskTag());
            assertEquals(2, session.owner.windowUpdates.get(), "each Data-In without status moved the window");
            assertEquals(7, buffer.get(ValueLayout.JAVA_BYTE, 4096), "data landed at its BufferOffset");
            assertEquals(0, buffer.get(ValueLayout.JAVA_BYTE, 0));
        }
        session.end(StopMode.TERMINATE);
    }

    static TestInitiator.Task readTask(int itt, MemorySegment buffer) {
        return new TestInitiator.Task(ScsiCommand.of(TestInitiator.LUN1, itt,
                Cdb.read10(0, (int) (buffer.byteSize() / 512)), true, false, (int) buffer.byteSize()), buffer);
    }

    static TestInitiator.Task writeTask(int itt, MemorySegment buffer) {
        return new TestInitiator.Task(ScsiCommand.of(TestInitiator.LUN1, itt,
                Cdb.write10(0, (int) (buffer.byteSize() / 512)), false, true, (int) buffer.byteSize()), buffer);
    }
}
