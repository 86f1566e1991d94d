package io.ostia.transport.iser.internal;

import io.ostia.api.iser.IserCmHeader;
import io.ostia.api.iser.IserHeader;
import io.ostia.api.iser.IserMessage;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.Side;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.Negotiator;
import io.ostia.api.text.TextCodec;
import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in iSER target on the loopback fabric, for the transport's own lifecycle and wire tests
 * until the embedded target's iSER portal (its real peer) is on main. It speaks only what these
 * tests need: it accepts one connection (checking the iSER CM private data), answers each Login
 * Request with a final Login Response, answers a read by RDMA-Writing a pattern into the
 * advertised buffer and a write by RDMA-Reading the advertised bytes, then sends a SCSI Response.
 * Everything on the verbs level is the fabric's real behaviour.
 *
 * <p>With {@link #asTgtd} it logs in and numbers commands as tgt's iSER portal does (tgt 1.0.85,
 * {@code iser_text.c} and {@code iser.c}), for the initiator's session layer: the login's text
 * negotiated for real, the final Login Response with ExpCmdSN one past the login's CmdSN and
 * MaxCmdSN at it, and commands executed only in CmdSN order from the login's CmdSN on (a command
 * with another CmdSN waits, unanswered, as in tgt's {@code iser_queue_task}).
 */
final class IserTestPeer implements AutoCloseable {

    static final int SLOTS = 64;
    static final int SLOT = 28 + 48 + 8192;
    static final int DATA = 1 << 20;

    private final Arena arena = Arena.ofShared();
    private final CmEventChannel channel;
    private final CmId listener;
    private final LinkedBlockingQueue<CmEvent> events = new LinkedBlockingQueue<>();
    final List<Pdu> received = new CopyOnWriteArrayList<>();
    final List<IserHeader> headers = new CopyOnWriteArrayList<>();
    volatile IserCmHeader connectData;
    /** What the last write's RDMA Read fetched (after the immediate data it got by Send). */
    final MemorySegment fetched = arena.allocate(DATA, 64);
    volatile int fetchedLength;
    volatile boolean refuseLogins;
    /** Log in and number commands as tgt's iSER portal does; set before the login. */
    volatile boolean asTgtd;
    private Negotiator negotiator;
    /** tgt's session ExpCmdSN: the next CmdSN it executes. */
    private int expectedCmdSN;
    /** Commands that came before their turn, by CmdSN, with their iSER headers. */
    private final TreeMap<Integer, Map.Entry<ScsiCommand, IserHeader>> waiting = new TreeMap<>();

    private CmId id;
    private ProtectionDomain pd;
    private CompletionQueue cq;
    private QueuePair qp;
    private MemoryRegion slots;
    private MemoryRegion data;
    private Thread poller;
    private volatile boolean running = true;
    private int statSN = 1;

    IserTestPeer(RdmaProvider provider) throws InterruptedException {
        this(provider, "127.0.0.1");
    }

    /** A peer listening on {@code host}, an address of a device of the fabric. */
    IserTestPeer(RdmaProvider provider, String host) throws InterruptedException {
        channel = provider.createEventChannel(events::add);
        listener = channel.createId();
        listener.bind(new InetSocketAddress(host, 0));
        listener.listen(4);
    }

    InetSocketAddress address() {
        return listener.localAddress();
    }

    /** Accepts the next connect request (bounded), with buffers and a completion thread. */
    void acceptNext() throws Exception {
        accept();
        next(CmEventType.ESTABLISHED);
    }

    /**
     * Takes the next connect request and accepts it, without waiting for ESTABLISHED (a test may
     * hold the CM events meanwhile).
     */
    void accept() throws Exception {
        takeRequest();
        acceptTaken();
    }

    /** Waits for the next connect request (bounded) and checks its iSER private data. */
    void takeRequest() throws Exception {
        CmEvent request = next(CmEventType.CONNECT_REQUEST);
        id = request.id();
        connectData = IserCmHeader.decode(request.privateData());
    }

    /** Accepts the request {@link #takeRequest} took, with buffers and a completion thread. */
    void acceptTaken() throws Exception {
        pd = id.device().allocateProtectionDomain();
        cq = id.device().createCompletionQueue(256);
        qp = id.createQueuePair(pd, new QueuePairAttributes(cq, cq, 128, SLOTS, 2, 1));
        slots = pd.registerMemory(arena.allocate((long) SLOTS * SLOT * 2, 64), EnumSet.of(MemoryAccess.LOCAL_WRITE));
        data = pd.registerMemory(arena.allocate(DATA, 64), EnumSet.of(MemoryAccess.LOCAL_WRITE));
        for (int i = 0; i < SLOTS; i++) {
            qp.postReceive(new ReceiveWorkRequest().wrId(i).add(slots, (long) i * SLOT, SLOT));
        }
        id.accept(ConnectionParameters.withPrivateData(new byte[0]));
        poller = Thread.ofPlatform().daemon(true).name("iser-test-peer").start(this::poll);
    }

    CmEvent next(CmEventType type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            CmEvent event = events.poll(100, TimeUnit.MILLISECONDS);
            if (event != null && event.type() == type) {
                return event;
            }
        }
        throw new AssertionError("the test peer got no " + type + " within 5 s");
    }

    /**
     * Refuses and closes the connect requests that arrived and were never taken, for a test that
     * races a connect and may leave one behind.
     */
    void dropRequests() {
        for (CmEvent event; (event = events.poll()) != null; ) {
            if (event.type() == CmEventType.CONNECT_REQUEST) {
                try {
                    event.id().reject(null);
                } catch (RuntimeException e) {
                    // its initiator is gone already; closing is what matters
                }
                event.id().close();
            }
        }
    }

    /** Breaks the connection from the target's side, as a target that goes away does. */
    void disconnect() {
        id.disconnect();
    }

    private void poll() {
        WorkCompletion[] batch = {new WorkCompletion()};
        try {
            while (running) {
                if (cq.poll(batch) == 0) {
                    Thread.sleep(1);
                    continue;
                }
                WorkCompletion completion = batch[0];
                if (completion.isSuccess() && completion.opcode() == io.ostia.rdma.WorkCompletionOpcode.RECV) {
                    int slot = (int) completion.wrId();
                    MemorySegment message = slots.segment().asSlice((long) slot * SLOT, completion.byteLength());
                    handle(message);
                    qp.postReceive(new ReceiveWorkRequest().wrId(slot).add(slots, (long) slot * SLOT, SLOT));
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Exception e) {
            if (running) {
                throw new IllegalStateException("the test peer failed", e);
            }
        }
    }

    private void handle(MemorySegment message) throws Exception {
        IserHeader header = (IserHeader) IserMessage.decode(message);
        headers.add(header);
        PduDecoder decoder = new PduDecoder(Side.TARGET, 1 << 20);
        ByteBuffer bytes = message.asSlice(IserMessage.LENGTH).asByteBuffer();
        Pdu pdu = decoder.decode(bytes);
        if (pdu == null) {
            pdu = decoder.decode(ByteBuffer.allocate(PduEncoder.paddingLength(bytes.capacity() - 48)));
        }
        received.add(pdu);
        if (pdu instanceof LoginRequest login && !refuseLogins && asTgtd) {
            loginAsTgtd(login);
        } else if (pdu instanceof LoginRequest login && !refuseLogins) {
            reply(new LoginResponse(true, false, login.currentStage(), LoginStage.FULL_FEATURE_PHASE, 0, 0,
                    login.isid(), 1, login.initiatorTaskTag(), statSN++, login.cmdSN(), login.cmdSN() + 32, 0, 0,
                    Pdu.NO_DATA));
        } else if (pdu instanceof ScsiCommand command && asTgtd && !command.immediate()) {
            // Its data is in a receive buffer reposted after this call: a command that waits keeps a copy.
            MemorySegment copy = arena.allocate(Math.max(1, command.data().byteSize()), 8)
                    .asSlice(0, command.data().byteSize()).copyFrom(command.data());
            waiting.put(command.cmdSN(), Map.entry(command.withData(copy), header));
            for (Map.Entry<ScsiCommand, IserHeader> next; (next = waiting.remove(expectedCmdSN)) != null; ) {
                expectedCmdSN++;
                execute(next.getKey(), next.getValue(), expectedCmdSN, expectedCmdSN + 32);
            }
        } else if (pdu instanceof LogoutRequest logout && asTgtd) {
            reply(new LogoutResponse(LogoutResponse.Response.CLOSED_SUCCESSFULLY, logout.initiatorTaskTag(), statSN++,
                    expectedCmdSN, expectedCmdSN + 32, 0, 0));
        } else if (pdu instanceof ScsiCommand command) {
            execute(command, header, command.cmdSN() + 1, command.cmdSN() + 32);
        }
    }

    /**
     * tgt's {@code iser_login_exec}: every Login Request sets ExpCmdSN and MaxCmdSN to its CmdSN,
     * then ExpCmdSN is advanced past it before the response; the session (made before that
     * advance) expects the login's CmdSN as the first command's.
     */
    private void loginAsTgtd(LoginRequest login) throws Exception {
        if (negotiator == null) {
            negotiator = new Negotiator(Side.TARGET, true, Map.of(Keys.RDMA_EXTENSIONS, Keys.YES,
                    Keys.AUTH_METHOD, Keys.NONE));
        }
        List<KeyValue> answers = negotiator.respond(TextCodec.parse(login.data()), login.currentStage());
        boolean last = login.transit() && login.nextStage() == LoginStage.FULL_FEATURE_PHASE;
        expectedCmdSN = login.cmdSN();
        reply(new LoginResponse(login.transit(), false, login.currentStage(),
                login.transit() ? login.nextStage() : login.currentStage(), 0, 0, login.isid(), last ? 1 : 0,
                login.initiatorTaskTag(), statSN++, login.cmdSN() + 1, login.cmdSN(), 0, 0,
                TextCodec.formatSegment(answers)));
    }

    private void execute(ScsiCommand command, IserHeader header, int expCmdSN, int maxCmdSN) throws Exception {
        int length = command.expectedDataTransferLength();
        if (header.readStagValid()) {
            MemorySegment pattern = data.segment();
            for (int i = 0; i < length; i++) {
                pattern.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + command.initiatorTaskTag()));
            }
            post(new SendWorkRequest().opcode(SendOpcode.RDMA_WRITE).signaled(false)
                    .remote(header.readBaseOffset(), header.readStag()).add(data, 0, length));
        }
        if (header.writeStagValid()) {
            int immediate = command.data().byteSize() > 0 ? (int) command.data().byteSize() : 0;
            post(new SendWorkRequest().opcode(SendOpcode.RDMA_READ).wrId(-7)
                    .remote(header.writeBaseOffset(), header.writeStag()).add(data, 0, length - immediate));
            awaitRead();
            MemorySegment.copy(command.data(), 0, fetched, 0, immediate);
            MemorySegment.copy(data.segment(), 0, fetched, immediate, length - immediate);
            fetchedLength = length;
        }
        reply(ScsiResponse.good(command.initiatorTaskTag(), statSN++, expCmdSN, maxCmdSN, 0));
    }

    private void awaitRead() throws InterruptedException {
        WorkCompletion[] one = {new WorkCompletion()};
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (cq.poll(one) == 1 && one[0].wrId() == -7) {
                if (!one[0].isSuccess()) {
                    throw new IllegalStateException("the test peer's RDMA Read failed: " + one[0]);
                }
                return;
            }
            Thread.sleep(0, 100_000);
        }
        throw new IllegalStateException("the test peer's RDMA Read did not complete");
    }

    private int replySlot;

    private void reply(Pdu pdu) {
        int slot = SLOTS + (replySlot++ % SLOTS);
        MemorySegment buffer = slots.segment().asSlice((long) slot * SLOT, SLOT);
        IserHeader.PLAIN.encode(buffer, 0);
        ByteBuffer out = buffer.asByteBuffer().order(ByteOrder.BIG_ENDIAN).position(IserMessage.LENGTH);
        PduEncoder encoder = new PduEncoder(false, false);
        int headerLength = encoder.encodeHeader(pdu, out);
        MemorySegment.copy(pdu.data(), 0, buffer, IserMessage.LENGTH + headerLength, pdu.dataSegmentLength());
        post(new SendWorkRequest().signaled(false).add(slots, (long) slot * SLOT,
                IserMessage.LENGTH + headerLength + pdu.dataSegmentLength()));
    }

    private void post(SendWorkRequest request) {
        qp.postSend(request);
    }

    @Override
    public void close() throws Exception {
        running = false;
        if (poller != null) {
            poller.interrupt();
            poller.join(5000);
        }
        for (AutoCloseable resource : new AutoCloseable[] {qp, slots, data, cq, pd, id, listener, channel}) {
            if (resource != null) {
                resource.close();
            }
        }
        arena.close();
    }

    static Duration seconds(int n) {
        return Duration.ofSeconds(n);
    }
}
