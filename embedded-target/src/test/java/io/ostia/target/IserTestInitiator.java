package io.ostia.target;

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
import io.ostia.api.pdu.Side;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
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
import io.ostia.rdma.RdmaResource;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A deliberately simple iSER initiator for tests, on the rdma API and the api's iSER codec: it
 * connects with iSER CM private data, sends each PDU behind its iSER header, advertises a
 * registered data region by STag for reads and writes, and waits (bounded) for what comes back.
 * It can also send what a real initiator never would.
 */
final class IserTestInitiator implements AutoCloseable {

    static final String NAME = "iqn.2026-01.io.ostia:iser-test-initiator";
    static final Duration WAIT = Duration.ofSeconds(5);
    static final int DATA_REGION = 8 << 20;
    private static final int SLOT = IserMessage.LENGTH + PduEncoder.MAX_HEADER_LENGTH + 8192;
    private static final int RECEIVES = 64;

    final LinkedBlockingQueue<CmEvent> events = new LinkedBlockingQueue<>();
    final CmEventChannel channel;
    final CmId id;
    private final Arena arena = Arena.ofShared();
    private final ProtectionDomain pd;
    private final CompletionQueue sendCq;
    private final CompletionQueue receiveCq;
    private final QueuePair qp;
    private final MemorySegment receiveBuffers;
    private final MemoryRegion receiveRegion;
    private final MemorySegment sendBuffer;
    private final MemoryRegion sendRegion;
    /** Where reads land and writes come from; the target reaches it by STag. */
    final MemorySegment data;
    final MemoryRegion dataRegion;
    private final PduDecoder decoder = new PduDecoder(Side.INITIATOR, (1 << 24) - 1);
    private final PduEncoder encoder = new PduEncoder(false, false);
    private final WorkCompletion[] one = {new WorkCompletion()};
    final long isid;
    int cmdSN = 1;
    int expStatSN;
    int itt = 0x100;
    final Map<String, String> negotiated = new LinkedHashMap<>();

    /** Whether the connect was accepted: a refused one is only closed. */
    private final boolean established;

    IserTestInitiator(RdmaProvider rdma, InetSocketAddress target, long isid) throws InterruptedException {
        this(rdma, null, target, isid, CmEventType.ESTABLISHED);
    }

    /**
     * Connects from {@code source} (null: the fabric picks) and expects {@code outcome}:
     * ESTABLISHED, REJECTED for a connection the target refuses, or null for either (see
     * {@link #established()}).
     */
    IserTestInitiator(RdmaProvider rdma, InetSocketAddress source, InetSocketAddress target, long isid,
                      CmEventType outcome) throws InterruptedException {
        this.isid = isid;
        channel = rdma.createEventChannel(events::add);
        id = channel.createId();
        id.resolveAddress(source, target, WAIT);
        expect(CmEventType.ADDR_RESOLVED);
        id.resolveRoute(WAIT);
        expect(CmEventType.ROUTE_RESOLVED);
        pd = id.device().allocateProtectionDomain();
        sendCq = id.device().createCompletionQueue(256);
        receiveCq = id.device().createCompletionQueue(RECEIVES);
        qp = id.createQueuePair(pd, new QueuePairAttributes(sendCq, receiveCq, 256, RECEIVES, 2, 1));
        receiveBuffers = arena.allocate((long) SLOT * RECEIVES, 64);
        receiveRegion = pd.registerMemory(receiveBuffers, EnumSet.of(MemoryAccess.LOCAL_WRITE));
        sendBuffer = arena.allocate(SLOT, 64);
        sendRegion = pd.registerMemory(sendBuffer, EnumSet.of(MemoryAccess.LOCAL_WRITE));
        data = arena.allocate(DATA_REGION, 4096);
        dataRegion = pd.registerMemory(data, EnumSet.allOf(MemoryAccess.class));
        for (int slot = 0; slot < RECEIVES; slot++) {
            postReceive(slot);
        }
        id.connect(ConnectionParameters.withPrivateData(new IserCmHeader(true, true).encode()));
        CmEvent e = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        boolean either = outcome == null && e != null
                && (e.type() == CmEventType.ESTABLISHED || e.type() == CmEventType.REJECTED);
        if (!either) {
            assertNotNull(e, "no CM event within " + WAIT + "; expected " + outcome);
            assertEquals(outcome, e.type(), "unexpected CM event " + e);
        }
        established = e.type() == CmEventType.ESTABLISHED;
    }

    boolean established() {
        return established;
    }

    CmEvent expect(CmEventType type) throws InterruptedException {
        CmEvent e = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(e, "no CM event within " + WAIT + "; expected " + type);
        assertEquals(type, e.type(), "unexpected CM event " + e);
        return e;
    }

    private void postReceive(int slot) {
        qp.postReceive(new ReceiveWorkRequest().wrId(slot).add(receiveRegion, (long) slot * SLOT, SLOT));
    }

    /** Sends {@code pdu} behind {@code header} and waits for the send to complete. */
    void send(Pdu pdu, IserHeader header) throws IOException, InterruptedException {
        header.encode(sendBuffer, 0);
        ByteBuffer out = sendBuffer.asSlice(IserMessage.LENGTH).asByteBuffer();
        encoder.encode(pdu, out);
        sendRaw(IserMessage.LENGTH + out.position());
    }

    /** Sends the first {@code length} bytes of the send buffer as they are; for malformed messages. */
    void sendRaw(int length) throws IOException, InterruptedException {
        qp.postSend(new SendWorkRequest().wrId(1).add(sendRegion, 0, length));
        WorkCompletion wc = next(sendCq);
        if (!wc.isSuccess()) {
            throw new IOException("send failed: " + wc);
        }
    }

    MemorySegment sendBuffer() {
        return sendBuffer;
    }

    /** The next PDU from the target, with its iSER header checked to be a plain control-type one. */
    Pdu receive() throws IOException, InterruptedException {
        WorkCompletion wc = next(receiveCq);
        if (!wc.isSuccess()) {
            throw new IOException("receive failed: " + wc);
        }
        int slot = (int) wc.wrId();
        MemorySegment message = receiveBuffers.asSlice((long) slot * SLOT, wc.byteLength());
        IserMessage header = IserMessage.decode(message);
        assertEquals(IserHeader.PLAIN, header, "the target's iSER header carries no STag");
        ByteBuffer in = message.asSlice(IserMessage.LENGTH).asByteBuffer();
        Pdu pdu = decoder.decode(in);
        assertNotNull(pdu, "an incomplete PDU in a message of " + wc.byteLength() + " bytes");
        assertEquals(0, in.remaining(), "bytes after the PDU");
        postReceive(slot);
        return pdu;
    }

    private WorkCompletion next(CompletionQueue cq) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (cq.poll(one) == 1) {
                return one[0];
            }
            Thread.sleep(0, 200_000);
        }
        throw new IOException("no completion within " + WAIT);
    }

    LoginResponse loginStep(LoginStage current, LoginStage next, Map<String, String> keys)
            throws IOException, InterruptedException {
        send(new LoginRequest(true, false, current, next, 0, 0, isid, 0, itt, 0, cmdSN, expStatSN,
                TestInitiator.text(keys)), IserHeader.PLAIN);
        LoginResponse r = (LoginResponse) receive();
        expStatSN = r.statSN() + 1;
        return r;
    }

    /** Logs in to {@code target} with the given operational keys after AuthMethod=None. */
    LoginResponse login(String target, Map<String, String> operational) throws IOException, InterruptedException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("InitiatorName", NAME);
        keys.put("SessionType", "Normal");
        keys.put("TargetName", target);
        keys.put("AuthMethod", "None");
        return login(keys, operational);
    }

    /** Logs in to a discovery session with the given operational keys after AuthMethod=None. */
    LoginResponse discoveryLogin(Map<String, String> operational) throws IOException, InterruptedException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("InitiatorName", NAME);
        keys.put("SessionType", "Discovery");
        keys.put("AuthMethod", "None");
        return login(keys, operational);
    }

    private LoginResponse login(Map<String, String> keys, Map<String, String> operational)
            throws IOException, InterruptedException {
        LoginResponse r = loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, keys);
        if (r.statusClass() != 0) {
            return r;
        }
        r = loginStep(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE, operational);
        if (r.statusClass() == 0) {
            negotiated.putAll(TestInitiator.keys(r));
        }
        return r;
    }

    /** The operational keys of an iSER login, as Linux's iser initiator sends them. */
    static Map<String, String> iserKeys() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("HeaderDigest", "None");
        keys.put("DataDigest", "None");
        keys.put("RDMAExtensions", "Yes");
        keys.put("InitiatorRecvDataSegmentLength", "8192");
        keys.put("MaxRecvDataSegmentLength", "8192");
        keys.put("ImmediateData", "Yes");
        keys.put("InitialR2T", "Yes");
        keys.put("MaxBurstLength", "1048576");
        keys.put("FirstBurstLength", "65536");
        return keys;
    }

    /** READ(10) or WRITE(10) of {@code blocks} 512-byte blocks at {@code lba}. */
    static byte[] cdb10(boolean write, long lba, int blocks) {
        return new byte[] {(byte) (write ? 0x2a : 0x28), 0, (byte) (lba >>> 24), (byte) (lba >>> 16), (byte) (lba >>> 8),
                (byte) lba, 0, (byte) (blocks >>> 8), (byte) blocks, 0};
    }

    /** Sends a READ(10) whose data the target RDMA-Writes at {@code offset} of {@link #data}; returns its tag. */
    int read(long lba, int blocks, long offset) throws IOException, InterruptedException {
        int tag = itt++;
        send(new ScsiCommand(false, true, true, false, ScsiCommand.TaskAttribute.SIMPLE, 0, tag, blocks * 512,
                cmdSN++, expStatSN, cdb10(false, lba, blocks), OptionalInt.empty(), Pdu.NO_DATA),
                IserHeader.read(dataRegion.rkey(), dataRegion.address() + offset));
        return tag;
    }

    /**
     * Sends a WRITE(10) of the bytes at {@code offset} of {@link #data}: the first {@code immediate}
     * as immediate data, the rest for the target to RDMA-Read; returns its tag.
     */
    int write(long lba, int blocks, long offset, int immediate) throws IOException, InterruptedException {
        int tag = itt++;
        int length = blocks * 512;
        MemorySegment immediateData = immediate == 0 ? Pdu.NO_DATA
                : MemorySegment.ofArray(data.asSlice(offset, immediate).toArray(ValueLayout.JAVA_BYTE));
        IserHeader header = immediate < length
                ? IserHeader.write(dataRegion.rkey(), dataRegion.address() + offset + immediate) : IserHeader.PLAIN;
        send(new ScsiCommand(false, true, false, true, ScsiCommand.TaskAttribute.SIMPLE, 0, tag, length, cmdSN++,
                expStatSN, cdb10(true, lba, blocks), OptionalInt.empty(), immediateData), header);
        return tag;
    }

    /** SendTargets=All; returns the answer's keys. */
    Map<String, String> sendTargets() throws IOException, InterruptedException {
        send(new TextRequest(true, true, false, 0, itt++, 0xffffffff, cmdSN, expStatSN,
                TestInitiator.text(Map.of("SendTargets", "All"))), IserHeader.PLAIN);
        TextResponse r = (TextResponse) receive();
        expStatSN = r.statSN() + 1;
        return TestInitiator.keys(r);
    }

    LogoutResponse logout() throws IOException, InterruptedException {
        send(new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, itt++, 0, cmdSN, expStatSN), IserHeader.PLAIN);
        return (LogoutResponse) receive();
    }

    /** Closes everything, child first; idempotent. */
    @Override
    public void close() {
        if (id.isClosed()) {
            return;
        }
        if (established) {
            id.disconnect();
        }
        for (RdmaResource r : List.of(qp, dataRegion, sendRegion, receiveRegion, sendCq, receiveCq, pd, id, channel)) {
            r.close();
        }
        arena.close();
    }
}
