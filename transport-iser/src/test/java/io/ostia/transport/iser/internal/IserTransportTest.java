package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.iser.IserCmHeader;
import io.ostia.api.iser.IserHeader;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.Keys;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.rdma.RdmaProviders;
import io.ostia.transport.iser.IserTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The iSER transport on the loopback fabric against {@link IserTestPeer}: connect, login over
 * Sends, reads and writes by RDMA, and the teardown orders of the Linux commit, each checked to
 * free every queue pair, region, queue, CM id and thread.
 */
class IserTransportTest {

    private static final Duration WAIT = IserFixture.WAIT;
    private IserFixture fixture;
    private IserTransport transport;
    private IserTestPeer peer;

    @BeforeEach
    void start() throws Exception {
        fixture = new IserFixture(Duration.ofMillis(500));
        transport = fixture.transport;
        peer = new IserTestPeer(fixture.fabric);
        fixture.peer = peer;
    }

    @AfterEach
    void nothingIsLeft() throws Exception {
        fixture.close();
    }

    private TransportEndpoint connected() throws Exception {
        return fixture.connected();
    }

    private static LoginRequest login() {
        return IserFixture.login();
    }

    private static NegotiatedParameters iserParameters() {
        return IserFixture.iserParameters();
    }

    /** Connects, binds and logs in: the connection is started. */
    private TransportConnection loggedIn(RecordingOwner owner, TransportEndpoint endpoint) throws Exception {
        TransportConnection connection = fixture.loggedIn(owner, endpoint, 16);
        connection.setParameters(iserParameters());
        connection.start();
        return connection;
    }

    /** The component's @Modified path: timeouts change in place and reach the next connection; sizes are refused. */
    @Test
    void reconfigureTakesNewTimeoutsAndRefusesWhatShapesQueuePairs() throws Exception {
        IserTransportOptions base = IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK);
        transport.reconfigure(base.withReleaseTimeout(Duration.ofMillis(1_500)));
        assertEquals(Duration.ofMillis(1_500), transport.releaseTimeout());
        TransportConnection after = loggedIn(new RecordingOwner(), connected());
        var e = assertThrows(IllegalArgumentException.class,
                () -> transport.reconfigure(base.withMaxQueueDepth(base.maxQueueDepth() + 1)));
        assertTrue(e.getMessage().contains("maxQueueDepth") && e.getMessage().contains("restart"), e.getMessage());
        assertEquals(Duration.ofMillis(1_500), transport.releaseTimeout(), "a refused change leaves the options as they were");
        after.stop(StopMode.TERMINATE);
    }

    @Test
    void connectSendsTheIserPrivateDataAndLoginTravelsOverSends() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        assertEquals(new IserCmHeader(true, true), peer.connectData);
        assertTrue(endpoint.localAddress() != null);
        TransportConnection connection = loggedIn(owner, endpoint);
        LoginRequest sent = (LoginRequest) peer.received.getFirst();
        assertEquals(login().isid(), sent.isid());
        assertEquals(IserHeader.PLAIN, peer.headers.getFirst(), "a login carries no STag");
        assertTrue(owner.threads.stream().allMatch(t -> t.startsWith("ostia-iser-cq")), owner.threads::toString);
        endpoint.disconnect();
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        awaitReleased();
    }

    /** tgtd answers RDMAExtensions=No in a discovery session over iSER (seen in the VM lab). */
    @Test
    void rdmaExtensionsNoLeavesControlPdusOnlyAndRefusesScsiCommands() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = fixture.loggedIn(owner, endpoint, 16);
        NegotiatedParameters p = iserParameters();
        connection.setParameters(new NegotiatedParameters(p.headerDigest(), p.dataDigest(),
                p.initiatorMaxRecvDataSegmentLength(), p.targetMaxRecvDataSegmentLength(), p.maxBurstLength(),
                p.firstBurstLength(), p.initialR2T(), p.immediateData(), p.maxOutstandingR2T(), p.dataPduInOrder(),
                p.dataSequenceInOrder(), p.errorRecoveryLevel(), p.defaultTime2Wait(), p.defaultTime2Retain(),
                p.maxConnections(), false, p.targetRecvDataSegmentLength(), p.initiatorRecvDataSegmentLength(),
                p.initiatorMaxOutstandingUnexpectedPdus(), p.targetMaxOutstandingUnexpectedPdus(),
                p.iscsiProtocolLevel()));
        connection.start();
        connection.sendPdu(IserFixture.login());
        assertInstanceOf(LoginResponse.class, owner.next(), "control PDUs still travel");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(4096);
            TransportException refused = assertThrows(TransportException.class, () -> connection.sendTask(
                    task(ScsiCommand.of(0, 0x300, new byte[16], true, false, 4096), buffer)));
            assertTrue(refused.getMessage().contains("RDMAExtensions=No"), refused.getMessage());
        }
        endpoint.disconnect();
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
        awaitReleased();
    }

    @Test
    void theConnectionDeclaresItsReceivesAndIserKeys() throws Exception {
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 16);
        assertEquals(Keys.YES, connection.loginKeys().get(Keys.RDMA_EXTENSIONS));
        assertEquals("8192", connection.loginKeys().get(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH));
        assertEquals("4", connection.loginKeys().get(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS));
        IllegalArgumentException tooDeep = assertThrows(IllegalArgumentException.class,
                () -> transport.createConnection(new RecordingOwner(), 129));
        assertTrue(tooDeep.getMessage().contains("maxQueueDepth"), tooDeep.getMessage());
        connection.destroy();
    }

    @Test
    void aReadIsAnRdmaWriteIntoTheRegisteredBufferAndAWriteAnRdmaRead() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        try (Arena arena = Arena.ofShared()) { // the target's RDMA Write lands from another thread
            MemorySegment buffer = arena.allocate(64 * 1024, 4096);
            for (int round = 0; round < 3; round++) {
                int tag = 0x100 + round;
                connection.sendTask(task(ScsiCommand.of(0, tag, new byte[16], true, false, (int) buffer.byteSize()),
                        buffer));
                ScsiResponse response = (ScsiResponse) owner.next();
                assertEquals(tag, response.initiatorTaskTag());
                for (int i = 0; i < buffer.byteSize(); i += 997) {
                    assertEquals((byte) (i * 7 + tag), buffer.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
                }
                IserHeader header = peer.headers.getLast();
                assertTrue(header.readStagValid() && !header.writeStagValid(), header::toString);
                assertEquals(buffer.address(), header.readBaseOffset());
            }
            for (int i = 0; i < buffer.byteSize(); i++) {
                buffer.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13));
            }
            connection.sendTask(task(ScsiCommand.of(0, 0x200, new byte[16], false, true, (int) buffer.byteSize()),
                    buffer));
            assertEquals(0x200, ((ScsiResponse) owner.next()).initiatorTaskTag());
            IserHeader header = peer.headers.getLast();
            ScsiCommand command = (ScsiCommand) peer.received.getLast();
            assertEquals(4096, command.data().byteSize(), "immediate data up to FirstBurstLength, by Send");
            assertTrue(header.writeStagValid() && !header.readStagValid(), header::toString);
            assertEquals(buffer.address() + 4096, header.writeBaseOffset(), "the RDMA Read starts past the immediate data");
            assertArrayEquals(buffer.toArray(ValueLayout.JAVA_BYTE),
                    peer.fetched.asSlice(0, buffer.byteSize()).toArray(ValueLayout.JAVA_BYTE));
            IserEndpoint iser = (IserEndpoint) endpoint;
            assertEquals(1, iser.registrationsMade(), "one registration served every task of the same buffer");
            endpoint.disconnect();
            connection.stop(StopMode.TERMINATE);
        }
        connection.destroy();
        awaitReleased();
    }

    private static TransportTask task(ScsiCommand command, MemorySegment buffer) {
        return new TransportTask() {
            @Override
            public ScsiCommand command() {
                return command;
            }

            @Override
            public MemorySegment buffer() {
                return buffer;
            }
        };
    }

    @Test
    void anUnboundEndpointIsReleasedOnTheSpot() throws Exception {
        TransportEndpoint endpoint = connected();
        endpoint.disconnect();
        assertEquals(0, transport.openEndpoints(), "released by disconnect itself");
        assertNull(endpoint.localAddress());
        assertThrows(TransportException.class, () -> endpoint.poll(WAIT));
    }

    @Test
    void disconnectBeforeStopQueuesTheReleaseUntilTheStop() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        endpoint.disconnect();
        Thread.sleep(100);
        assertEquals(1, transport.openEndpoints(), "the release waits for the stop");
        connection.stop(StopMode.TERMINATE);
        awaitReleased();
        connection.destroy();
        assertTrue(owner.failures.isEmpty(), () -> "a disconnect the owner asked for is no failure: " + owner.failures);
    }

    @Test
    void stopBeforeDisconnectReleasesAtTheDisconnect() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        connection.stop(StopMode.TERMINATE);
        assertEquals(1, transport.openEndpoints());
        endpoint.disconnect();
        assertEquals(0, transport.openEndpoints(), "unbound by the stop: released on the spot");
        connection.destroy();
    }

    @Test
    void aReleaseWhoseStopNeverComesEndsAfterItsTimeout() throws Exception {
        TransportEndpoint endpoint = connected();
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 16);
        connection.bind(endpoint, true);
        endpoint.disconnect();
        long started = System.nanoTime();
        awaitReleased();
        assertTrue(System.nanoTime() - started >= Duration.ofMillis(400).toNanos(), "the release waited for the stop");
        connection.stop(StopMode.TERMINATE);
        connection.destroy();
    }

    @Test
    void thePeerDisconnectingFailsTheConnectionOnceFromTheCompletionThread() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        peer.disconnect();
        owner.awaitFailure();
        assertEquals(1, owner.failures.size(), owner.failures::toString);
        assertTrue(owner.failures.getFirst().getMessage().contains("DISCONNECTED"), owner.failures.getFirst()::getMessage);
        assertTrue(owner.threads.getLast().startsWith("ostia-iser-cq"), owner.threads::toString);
        TransportException refused = assertThrows(TransportException.class, () -> connection.sendPdu(login()));
        assertTrue(refused.getMessage().contains("DISCONNECTED"), refused.getMessage());
        endpoint.disconnect();
        connection.stop(StopMode.RECOVER);
        connection.destroy();
        awaitReleased();
    }

    @Test
    void aSecondBindAndABindToADyingEndpointAreRefused() throws Exception {
        TransportEndpoint endpoint = connected();
        TransportConnection connection = transport.createConnection(new RecordingOwner(), 16);
        connection.bind(endpoint, true);
        TransportConnection other = transport.createConnection(new RecordingOwner(), 16);
        TransportException twice = assertThrows(TransportException.class, () -> other.bind(endpoint, true));
        assertTrue(twice.getMessage().contains("already carried"), twice.getMessage());
        assertThrows(TransportException.class, () -> connection.bind(endpoint, true));
        connection.stop(StopMode.TERMINATE);
        TransportException dying = assertThrows(TransportException.class, () -> other.bind(endpoint, true));
        assertTrue(dying.getMessage().contains("terminating"), dying.getMessage());
        endpoint.disconnect();
        connection.destroy();
        other.destroy();
    }

    @Test
    void connectingWhereNobodyListensFailsThePoll() throws Exception {
        TransportEndpoint endpoint = transport.connect(new InetSocketAddress("127.0.0.1", 1));
        TransportException failed = assertThrows(TransportException.class, () -> endpoint.poll(WAIT));
        assertTrue(failed.getMessage().contains("127.0.0.1:1"), failed.getMessage());
        endpoint.disconnect();
        assertEquals(0, transport.openEndpoints());
    }

    @Test
    void leavingTellsOwnersThenForceReleasesWhatTheyKept() throws Exception {
        RecordingOwner owner = new RecordingOwner();
        TransportEndpoint endpoint = connected();
        TransportConnection connection = loggedIn(owner, endpoint);
        TransportEndpoint halfConnected = transport.connect(new InetSocketAddress("127.0.0.1", 2));
        transport.close();
        assertEquals(List.of(transport), owner.leaving);
        assertEquals(1, owner.failures.size(), "force-release reports a failure to the owner that kept it");
        assertEquals(0, transport.openEndpoints());
        assertThrows(TransportException.class, () -> transport.connect(peer.address()));
        connection.destroy();
        assertThrows(TransportException.class, () -> halfConnected.poll(Duration.ofMillis(1)),
                "the half-connected endpoint was released too");
    }

    private void awaitReleased() throws InterruptedException {
        fixture.awaitReleased();
    }
}
