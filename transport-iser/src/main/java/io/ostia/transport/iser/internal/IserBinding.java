package io.ostia.transport.iser.internal;

import io.ostia.api.ProtocolException;
import io.ostia.api.TransportException;
import io.ostia.api.iser.IserHeader;
import io.ostia.api.iser.IserMessage;
import io.ostia.api.iser.IserOpcode;
import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Opcode;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.pdu.Side;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.lifecycle.ConnectionBinding;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One bind of a connection to an {@link IserEndpoint}: the receives it keeps posted, the sends,
 * the task table and the owner calls. Login runs in plain iSCSI form over Sends; once started the
 * connection is in iSER-assisted mode: a SCSI read advertises the task's buffer for the target's
 * RDMA Write (RSV), a write sends its immediate data and advertises the rest for the target's RDMA
 * Read (WSV). Data-In and R2T never cross the wire; one arriving fails the connection.
 *
 * <p>Owner calls come from the endpoint's completion thread only, one at a time under {@link
 * #ownerCalls}, and none after {@link #stopRequested}. Failures seen by any thread (a failed
 * work completion, a CM event, a malformed PDU) are recorded once and reported by the
 * completion thread. The stop completion is armed at bind, re-armed by start, and completed
 * when stop has forgotten its tasks and unbound: the endpoint's release work waits for it.
 */
final class IserBinding implements ConnectionBinding {

    private static final System.Logger LOG = System.getLogger(IserBinding.class.getName());
    /** iSER header and BHS in front of every message's data segment. */
    static final int HEADERS = IserMessage.LENGTH + PduEncoder.BHS_LENGTH;
    /** What the decoder is given as padding: iSER messages carry none. */
    private static final byte[] NO_PADDING = new byte[3];

    private final ConnectionOwner owner;
    private final IserEndpoint endpoint;
    private final IserTransportOptions options;
    private final int queueDepth;
    private final PduEncoder encoder = new PduEncoder(false, false);
    private final PduDecoder decoder;
    /** The SCSI Responses the decoder fills, one at a time on the completion thread: no record per answer. */
    private final ScsiResponseHolder responses = new ScsiResponseHolder();
    private final ByteBuffer zeroPadding = ByteBuffer.wrap(NO_PADDING);
    private final TaskTagTable<Task> tasks;
    private final ReentrantLock ownerCalls = new ReentrantLock();
    /** Serialises posting: the work requests are reused. */
    private final ReentrantLock posting = new ReentrantLock();
    private final SendWorkRequest send = new SendWorkRequest();
    private final ReceiveWorkRequest receive = new ReceiveWorkRequest();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicBoolean failureReported = new AtomicBoolean();
    private volatile boolean stopping;
    private volatile CountDownLatch stopCompletion = new CountDownLatch(1);

    // Set by attached(), under the endpoint's state lock, before the binding is published.
    private QueuePair qp;
    private BufferPool receives;
    private BufferPool sends;
    private RegistrationCache registrations;

    // Negotiated; written under the lifecycle lock before start, read by senders after.
    private volatile boolean immediateData;
    /** Whether login settled RDMAExtensions=Yes; a discovery session may end without it. */
    private volatile boolean assisted = true;
    private volatile int firstBurstLength = 65536;
    private volatile int targetRecvDataSegmentLength = IserTransportOptions.LOGIN_DATA_SEGMENT_LENGTH;

    /**
     * A task in flight: the session's, and the registration its buffer holds. Entries are reused
     * (a free stack guarded by itself), so sending a task allocates nothing.
     */
    private static final class Task {
        TransportTask task;
        int registration;
    }

    private final ArrayDeque<Task> spareTasks = new ArrayDeque<>();

    /** Binds {@code owner}'s connection to {@code endpoint}: only an endpoint of this transport that is up. */
    static IserBinding bind(IserTransport transport, ConnectionOwner owner, TransportEndpoint endpoint, int queueDepth,
            IserTransportOptions options) throws TransportException {
        if (!(endpoint instanceof IserEndpoint iser)) {
            throw new TransportException("cannot bind an iSER connection to " + (endpoint == null ? "null"
                    : "an endpoint of another transport (" + endpoint.getClass().getName() + ")"));
        }
        if (!transport.owns(iser)) {
            throw new TransportException("cannot bind to " + iser + ": it belongs to another iSER transport");
        }
        IserBinding fresh = new IserBinding(owner, iser, queueDepth, options);
        iser.attach(fresh, queueDepth);
        return fresh;
    }

    private IserBinding(ConnectionOwner owner, IserEndpoint endpoint, int queueDepth, IserTransportOptions options) {
        this.owner = owner;
        this.endpoint = endpoint;
        this.options = options;
        this.queueDepth = queueDepth;
        this.tasks = new TaskTagTable<>(queueDepth);
        this.decoder = new PduDecoder(Side.INITIATOR, options.receiveDataSegmentLength());
        decoder.setScsiResponseHolder(responses);
    }

    /** The endpoint's pools for this bind: every receive is posted now, before the login. */
    void attached(QueuePair queuePair, BufferPool receiveBuffers, BufferPool sendBuffers, RegistrationCache cache) {
        this.qp = queuePair;
        this.receives = receiveBuffers;
        this.sends = sendBuffers;
        this.registrations = cache;
        for (int i = 0; i < receives.count(); i++) {
            repost(i);
        }
    }

    private void repost(int slot) {
        posting.lock();
        try {
            qp.postReceive(receive.reset().wrId(IserEndpoint.RECEIVE | slot)
                    .add(receives.region(), receives.offset(slot), receives.slotSize()));
        } finally {
            posting.unlock();
        }
    }

    @Override
    public TransportEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public void requireHealthy(String what) throws TransportException {
        Throwable failed = failure.get();
        if (failed != null) {
            throw new TransportException("cannot " + what + ": the connection on " + endpoint + " failed: "
                    + failed.getMessage(), failed);
        }
        if (!endpoint.isUp()) {
            throw new TransportException("cannot " + what + ": " + endpoint + " is " + endpoint.describeState());
        }
    }

    /**
     * iSER carries no digests (Linux refuses them at set_param). Without RDMAExtensions=Yes only
     * control PDUs may follow: tgtd answers No in discovery sessions, as Linux discovers over iSER
     * without the key; SCSI commands are then refused at {@link #sendTask}.
     */
    @Override
    public void setParameters(NegotiatedParameters parameters) {
        if (parameters.headerDigest() || parameters.dataDigest()) {
            fail(new TransportException("iSER carries no digests, but the login negotiated "
                    + (parameters.headerDigest() ? "HeaderDigest" : "DataDigest") + "=CRC32C"));
        }
        assisted = parameters.rdmaExtensions();
        immediateData = parameters.immediateData();
        firstBurstLength = parameters.firstBurstLength();
        targetRecvDataSegmentLength = parameters.targetRecvDataSegmentLength();
    }

    @Override
    public void started() {
        stopCompletion = new CountDownLatch(1); // re-armed, as Linux's start_conn does
    }

    @Override
    public void stopRequested() {
        stopping = true;
    }

    /**
     * Linux {@code iscsi_iser_conn_stop}: terminate the RDMA connection (the queue pair to error,
     * so the target can no longer reach a task buffer), let an owner call in progress end, forget
     * every task, unbind, and complete the stop completion.
     */
    @Override
    public void retire(StopMode mode) {
        stopping = true;
        endpoint.terminate();
        if (!ownerCalls.isHeldByCurrentThread()) {
            ownerCalls.lock(); // the owner call in progress, if any, ends first
            ownerCalls.unlock();
        }
        for (Task task : tasks.removeAll()) {
            releaseRegistration(task.registration);
            spare(task);
        }
        endpoint.detach(this);
        LOG.log(Level.DEBUG, () -> "stopped (" + mode + ") the connection on " + endpoint); // before the release it lets go
        stopCompletion.countDown();
    }

    /** For the endpoint's release work: waits at most {@code timeoutNanos} for {@link #retire}. */
    boolean awaitStopped(long timeoutNanos) throws InterruptedException {
        return stopCompletion.await(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean isCallbackThread() {
        return endpoint.isCompletionThread();
    }

    // ---- sending ----

    @Override
    public void sendPdu(Pdu pdu) throws TransportException {
        int length = pdu.dataSegmentLength();
        if (IserMessage.LENGTH + encoder.headerLength(pdu) + PduEncoder.paddedLength(length) > sends.slotSize()) {
            throw new TransportException("a " + pdu.opcode() + " PDU with a data segment of " + length
                    + " bytes does not fit an iSER send buffer (" + (sends.slotSize() - HEADERS) + " bytes)");
        }
        int slot = takeSendSlot(pdu.opcode());
        MemorySegment buffer = sends.slot(slot);
        IserHeader.PLAIN.encode(buffer, 0);
        int headerLength = encoder.headerLength(pdu);
        encoder.encodeHeader(pdu, sends.view(slot).position(IserMessage.LENGTH));
        int dataAt = IserMessage.LENGTH + headerLength;
        MemorySegment.copy(pdu.data(), 0, buffer, dataAt, length);
        int padding = PduEncoder.paddingLength(length);
        buffer.asSlice(dataAt + length, padding).fill((byte) 0);
        post(slot, dataAt + length + padding, null, 0, 0);
    }

    @Override
    public void sendTask(TransportTask transportTask) throws TransportException {
        CommandHeader command = transportTask.header(); // the task's own fields: no record per send
        if (!assisted) {
            throw new TransportException("the target at " + endpoint.remoteAddress() + " answered RDMAExtensions=No: "
                    + "this connection carries only a discovery session's PDUs, no SCSI command");
        }
        MemorySegment buffer = transportTask.buffer();
        int total = command.expectedDataTransferLength();
        if (buffer.byteSize() != total) {
            throw new TransportException("task " + Integer.toHexString(command.initiatorTaskTag()) + " has a buffer of "
                    + buffer.byteSize() + " bytes for an expected data transfer length of " + total);
        }
        int registration = -1;
        MemoryRegion region = null;
        if (total > 0) {
            try {
                registration = registrations.acquire(buffer);
            } catch (RuntimeException e) {
                throw new TransportException("cannot register the buffer of task "
                        + Integer.toHexString(command.initiatorTaskTag()) + ": " + e.getMessage(), e);
            }
            region = registrations.region(registration);
        }
        int immediate = 0;
        // The STags the iSER header advertises; encoded field by field, no header object per task.
        boolean writeStag = false;
        boolean readStag = command.read() && total > 0;
        if (command.write() && total > 0) {
            immediate = immediateData ? Math.min(total, Math.min(firstBurstLength, targetRecvDataSegmentLength)) : 0;
            // The target fetches what immediate data did not carry by RDMA Read, from past those bytes.
            writeStag = immediate < total;
        }
        Task entry = spareTask();
        entry.task = transportTask;
        entry.registration = registration;
        if (tasks.putIfAbsent(command.initiatorTaskTag(), entry) != null) {
            releaseRegistration(registration);
            spare(entry);
            throw new TransportException("task tag " + Integer.toHexString(command.initiatorTaskTag())
                    + " is already in flight on " + endpoint);
        }
        int slot;
        try {
            slot = takeSendSlot(Opcode.SCSI_COMMAND);
        } catch (TransportException e) {
            forget(command.initiatorTaskTag());
            throw e;
        }
        long address = buffer.address();
        int rkey = region == null ? 0 : region.rkey();
        IserHeader.encode(sends.slot(slot), 0, writeStag, rkey, address + immediate, readStag, rkey, address);
        // The task's fields, the immediate data's length and F go straight into the BHS.
        int headerLength = encoder.encodeCommandHeader(command, immediate, true,
                sends.view(slot).position(IserMessage.LENGTH));
        try {
            post(slot, IserMessage.LENGTH + headerLength, region, buffer.address(), immediate);
        } catch (TransportException e) {
            forget(command.initiatorTaskTag());
            throw e;
        }
    }

    private Task spareTask() {
        synchronized (spareTasks) {
            Task entry = spareTasks.poll();
            return entry != null ? entry : new Task();
        }
    }

    private void spare(Task entry) {
        entry.task = null;
        synchronized (spareTasks) {
            spareTasks.push(entry);
        }
    }

    private int takeSendSlot(Opcode opcode) throws TransportException {
        if (failure.get() != null || !endpoint.isUp()) {
            requireHealthy("send a " + opcode + " PDU"); // the message only when it fails
        }
        try {
            int slot = sends.take(options.releaseTimeout().toNanos());
            if (slot < 0) {
                throw new TransportException("no iSER send buffer came free within " + options.releaseTimeout().toMillis()
                        + " ms on " + endpoint + ": the target does not complete sends");
            }
            return slot;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("interrupted while waiting for an iSER send buffer", e);
        }
    }

    /** Posts slot's headers (and {@code dataLength} bytes at {@code dataAddress} of {@code data}) as one Send. */
    private void post(int slot, int headersLength, MemoryRegion data, long dataAddress, int dataLength)
            throws TransportException {
        posting.lock();
        try {
            send.reset().wrId(IserEndpoint.SEND | slot).add(sends.region(), sends.offset(slot), headersLength);
            if (dataLength > 0) {
                send.add(data, dataAddress - data.address(), dataLength);
                int padding = PduEncoder.paddingLength(dataLength);
                if (padding > 0) { // zeros from the slot's last bytes, which a command's headers never reach
                    send.add(sends.region(), sends.offset(slot) + sends.slotSize() - padding, padding);
                    sends.slot(slot).asSlice(sends.slotSize() - padding).fill((byte) 0);
                }
            }
            qp.postSend(send);
        } catch (RuntimeException e) {
            sends.give(slot);
            throw new TransportException("cannot post a send on " + endpoint + ": " + e.getMessage(), e);
        } finally {
            posting.unlock();
        }
    }

    @Override
    public void cleanupTask(TransportTask task) {
        forget(task.header().initiatorTaskTag());
    }

    private void forget(int tag) {
        Task task = tasks.remove(tag);
        if (task != null) {
            releaseRegistration(task.registration);
            spare(task);
        }
    }

    private void releaseRegistration(int registration) {
        if (registration >= 0) {
            registrations.release(registration);
        }
    }

    // ---- completions, on the endpoint's completion thread ----

    void sent(int slot, WorkCompletion completion) {
        sends.give(slot);
        if (!completion.isSuccess() && completion.status() != WorkCompletionStatus.FLUSH_ERROR) {
            fail(new TransportException("a send on " + endpoint + " failed: " + completion.status()));
        }
    }

    void received(int slot, WorkCompletion completion) {
        if (!completion.isSuccess()) {
            if (completion.status() != WorkCompletionStatus.FLUSH_ERROR) {
                fail(new TransportException("a receive on " + endpoint + " failed: " + completion.status()));
            }
            return;
        }
        Pdu pdu;
        try {
            pdu = decode(slot, completion.byteLength());
        } catch (ProtocolException e) {
            fail(e);
            return;
        } finally {
            if (!stopping) {
                repost(slot);
            }
        }
        if (pdu == null) {
            deliverHeldResponse();
        } else {
            deliver(pdu);
        }
    }

    /**
     * The PDU in a received message: iSER header, BHS, data segment and its padding. Linux's
     * initiator sends no padding after a login's text, and Ostia's target sends it, so a message
     * that ends with the data segment is taken as if padded. Null when a SCSI Response went into
     * {@link #responses}.
     */
    private Pdu decode(int slot, int length) throws ProtocolException {
        if (length < HEADERS) {
            throw new PduFormatException("Length", "an iSER message of " + length + " bytes is shorter than the "
                    + HEADERS + " bytes of iSER header and BHS");
        }
        MemorySegment message = receives.slot(slot);
        IserOpcode opcode = IserOpcode.of(message.get(ValueLayout.JAVA_BYTE, 0));
        if (opcode != IserOpcode.ISCSI_CONTROL) {
            throw new PduFormatException("Opcode", "an iSER " + opcode + " message arrived on a connection "
                    + "that exchanges no Hello (RFC 7145 leaves it to iWARP with iSERHelloRequired=Yes)");
        }
        Pdu pdu = decoder.decode(receives.view(slot).limit(length).position(IserMessage.LENGTH));
        if (pdu == null && decoder.state() == PduDecoder.State.PADDING) {
            pdu = decoder.decode(zeroPadding.clear().limit(PduEncoder.paddingLength(decoderPending(length))));
        }
        if (pdu == null && decoder.heldOpcode() == Opcode.SCSI_RESPONSE) {
            return null; // in the connection's holder
        }
        if (pdu == null) {
            throw new PduFormatException("DataSegmentLength", "an iSER message of " + length
                    + " bytes ends inside the iSCSI PDU it carries");
        }
        if (pdu instanceof DataIn || pdu instanceof ReadyToTransfer) {
            throw new PduFormatException("Opcode", "a " + pdu.opcode() + " PDU arrived on an iSER connection: in "
                    + "iSER-assisted mode the target moves data by RDMA, and R2T and Data-In never cross the wire");
        }
        return pdu;
    }

    /** The data segment length of the message being decoded: what its padding pads. */
    private static int decoderPending(int messageLength) {
        return messageLength - HEADERS;
    }

    /** The SCSI Response in {@link #responses}: handed over and read during the owner's call only. */
    private void deliverHeldResponse() {
        forget(responses.initiatorTaskTag());
        ownerCalls.lock();
        try {
            if (!stopping) {
                owner.scsiResponseReceived(responses);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "the owner of the connection on " + endpoint + " threw from scsiResponseReceived", e);
        } finally {
            ownerCalls.unlock();
        }
    }

    private void deliver(Pdu pdu) {
        if (pdu instanceof ScsiResponse response) {
            forget(response.initiatorTaskTag());
        }
        ownerCalls.lock();
        try {
            if (!stopping) {
                owner.pduReceived(pdu);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "the owner of the connection on " + endpoint + " threw from pduReceived", e);
        } finally {
            ownerCalls.unlock();
        }
    }

    // ---- failures ----

    /** Records the connection's first failure; the completion thread reports it. From any thread. */
    void fail(Throwable cause) {
        if (failure.compareAndSet(null, cause)) {
            LOG.log(Level.DEBUG, () -> "the connection on " + endpoint + " failed: " + cause.getMessage());
        }
    }

    /** Reports a recorded failure to the owner, once, unless the owner already stopped the connection. */
    void reportFailure() {
        Throwable failed = failure.get();
        if (failed == null || stopping || !failureReported.compareAndSet(false, true)) {
            return;
        }
        ownerCalls.lock();
        try {
            if (!stopping) {
                owner.connectionFailed(failed);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "the owner of the connection on " + endpoint + " threw from connectionFailed", e);
        } finally {
            ownerCalls.unlock();
        }
    }

    @Override
    public void failAndAwaitReport(TransportException cause) {
        fail(cause);
        reportFailure();
    }

    @Override
    public String toString() {
        return "iSER connection on " + endpoint + " (queue depth " + queueDepth + ")";
    }
}
