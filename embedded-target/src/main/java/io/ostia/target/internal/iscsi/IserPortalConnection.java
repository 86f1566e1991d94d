package io.ostia.target.internal.iscsi;

import io.ostia.api.iser.IserFormatException;
import io.ostia.api.iser.IserHeader;
import io.ostia.api.iser.IserMessage;
import io.ostia.api.iser.IserOpcode;
import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.Opcode;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiCommandHolder;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.pdu.Side;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.text.Keys;
import io.ostia.rdma.CmId;
import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.ConnectionParameters;
import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.QueuePair;
import io.ostia.rdma.QueuePairAttributes;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.RdmaResource;
import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionStatus;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * iSCSI over one iSER connection (RFC 7145), accepted by an {@link IserPortal}: every iSCSI PDU
 * travels in a Send behind its 28-byte iSER header, login included; SCSI data moves by RDMA
 * (through {@link RdmaDataMover}). One platform thread polls the completion queue and does all the
 * session-layer work of the connection, as the TCP connection's reader thread does.
 *
 * <p><b>Resources.</b> It owns a protection domain, one completion queue, the queue pair, and two
 * registered regions: receive buffers (one iSER header, the largest iSCSI header and
 * {@link #RECV_DATA_SEGMENT} bytes of data each, all posted from the start: login runs over them
 * too) and send buffers. The thread frees them all, and the CM id, when it ends.
 *
 * <p><b>Teardown.</b> {@link #close()} (any thread) disconnects: the queue pair goes to error and
 * everything posted flushes. Every send and RDMA Read is signaled, so the thread knows when
 * the last one is back (an RDMA Write of read data is unsignaled, as isert posts it: the response
 * Send behind it completes after it, and that completion gives the write's buffer back; an error
 * completes it anyway, uncounted); it waits for that (bounded by {@link #FLUSH_WAIT}, a timeout
 * logged), destroys the queue pair, lets the session layer close its tasks and the mover free its buffers,
 * and frees the rest, child first. Receives are not waited for: one reposted after the queue pair
 * went to error (a dropped connection) may never complete (Soft-RoCE leaves it queued), and they
 * use only the connection's own receive buffers, which outlive the queue pair.
 */
final class IserPortalConnection implements PduTransport {

    private static final System.Logger LOG = System.getLogger(IserPortalConnection.class.getName());

    /** TargetRecvDataSegmentLength this target declares: Linux isert's receive size. */
    static final int RECV_DATA_SEGMENT = 8192;
    /** MaxOutstandingUnexpectedPDUs this target declares: receives beyond the command window. */
    static final int UNEXPECTED_PDUS = 16;
    /** The largest data segment sent: the RFC 7145 default InitiatorRecvDataSegmentLength. */
    static final int SEND_DATA_SEGMENT = 8192;
    private static final int RECV_SLOT = IserMessage.LENGTH + PduEncoder.MAX_HEADER_LENGTH + RECV_DATA_SEGMENT;
    private static final int SEND_SLOT = IserMessage.LENGTH + PduEncoder.BHS_LENGTH + SEND_DATA_SEGMENT;
    static final Duration FLUSH_WAIT = Duration.ofSeconds(5);
    private static final Duration SEND_SLOT_WAIT = Duration.ofSeconds(5);
    private static final Duration POLL_WAIT = Duration.ofMillis(100);

    // Work request ids: the kind in the top byte, a slot or the mover's token below.
    private static final long RECEIVE = 1L << 56;
    private static final long SEND = 2L << 56;
    private static final long RDMA_WRITE = 3L << 56;
    private static final long RDMA_READ = 4L << 56;
    private static final long KIND = 0xffL << 56;
    /** Marks an RDMA Write posted unsignaled (below the kind, above any token). */
    private static final long UNSIGNALED = 1L << 55;

    /** What the data mover learns of its RDMA operations, on this connection's thread. */
    interface RdmaCompletions {
        /** An RDMA Write of read data posted with {@code token} completed. */
        void written(long token);

        /** An RDMA Read of write data posted with {@code token} completed. */
        void read(long token) throws IOException;
    }

    private final CmId id;
    private final String remote;
    private final InetSocketAddress local;
    private final int receives;
    private final int maxTaggedCommands;
    private final Arena arena = Arena.ofShared();
    private final List<RdmaResource> owned = new ArrayList<>();
    private final ProtectionDomain pd;
    private final CompletionQueue cq;
    private final QueuePair qp;
    private final MemorySegment receiveBuffers;
    private final MemoryRegion receiveRegion;
    private final MemorySegment sendBuffers;
    private final MemoryRegion sendRegion;
    private final PduDecoder decoder = new PduDecoder(Side.TARGET, RECV_DATA_SEGMENT);
    private final PduEncoder encoder = new PduEncoder(false, false);
    /** Where the decoder puts a SCSI command: no record per command (the handler copies what it keeps). */
    private final ScsiCommandHolder commandHolder = new ScsiCommandHolder();
    private final ReceiveWorkRequest receive = new ReceiveWorkRequest();
    /** The STags of SCSI commands that carried some, by task tag, until the mover takes them. */
    private final TaskTagTable<IserStags> tagged = new TaskTagTable<>(64);
    /** Holders for {@link #tagged} taken back, reused (at most maxTaggedCommands are ever made). */
    private final ArrayDeque<IserStags> spareStags = new ArrayDeque<>();
    /**
     * Big-endian views of the receive region and of each send slot, made once: the encoder and
     * decoder take buffers. One view of all receives, so the decoder's copy source stays the same.
     */
    private final ByteBuffer receiveView;
    private final ByteBuffer[] sendViews;
    private final PduHandler handler;
    private final Thread thread;
    private final Runnable onExit;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFreed = lock.newCondition();
    /** Free send slot numbers, a stack (lock). */
    private final int[] freeSendSlots;
    private int freeSendCount;
    private final SendWorkRequest send = new SendWorkRequest();
    /**
     * Signaled sends and RDMA operations posted whose completion has not been polled (lock);
     * receives and unsignaled RDMA Writes are not counted.
     */
    private int outstanding;
    /**
     * Tokens of the RDMA Writes posted unsignaled, as isert posts a read's data: the Send posted
     * after one completes after it (RC order), so that Send's completion retires it. A ring
     * (lock), entry {@code n % length} for the n-th such write.
     */
    private final long[] unsignaledWrites;
    /** Unsignaled writes posted (lock). */
    private long writesPosted;
    /** Unsignaled writes whose buffers went back to the mover (the connection's thread; read under the lock). */
    private volatile long writesRetired;
    /** Unsignaled writes a polled Send completion vouches for (written under the lock, by the connection's thread). */
    private volatile long writesDone;
    /** For each send slot, {@link #writesPosted} when its Send was posted (lock). */
    private final long[] writesBeforeSend;
    private RdmaCompletions rdma;
    private volatile boolean closing;

    /**
     * Allocates everything, posts the receives and accepts the connection request on {@code id}.
     * On failure frees what it allocated (not the id) and throws.
     *
     * @param commandWindow the session's command window: the receives posted are this many plus
     *                      {@link #UNEXPECTED_PDUS}
     */
    IserPortalConnection(CmId id, String threadName, int commandWindow,
                         Function<IserPortalConnection, PduHandler> handlers, Runnable onExit) {
        this.id = id;
        this.onExit = onExit;
        InetSocketAddress r = id.remoteAddress();
        this.remote = r == null ? "unknown" : r.getAddress().getHostAddress() + ":" + r.getPort();
        this.local = id.localAddress();
        this.receives = commandWindow + UNEXPECTED_PDUS;
        this.maxTaggedCommands = 4 * receives;
        // One response per received PDU at most outstanding, and a few sent from other threads.
        int sendSlots = receives + 16;
        // Sends, plus one RDMA operation per command at most.
        int sendQueue = sendSlots + 2 * receives;
        try {
            int limit = id.device().limits().maxQueuePairWorkRequests();
            if (sendQueue > limit) {
                throw new RdmaException("an iSER connection with a command window of " + commandWindow + " needs "
                        + sendQueue + " send work requests; device " + id.device().name() + " allows " + limit);
            }
            pd = own(id.device().allocateProtectionDomain());
            cq = own(id.device().createCompletionQueue(sendQueue + receives));
            qp = id.createQueuePair(pd, new QueuePairAttributes(cq, cq, sendQueue, receives, 2, 1));
            owned.addFirst(qp);
            receiveBuffers = arena.allocate((long) RECV_SLOT * receives, 64);
            receiveRegion = own(pd.registerMemory(receiveBuffers, EnumSet.of(MemoryAccess.LOCAL_WRITE)));
            sendBuffers = arena.allocate((long) SEND_SLOT * sendSlots, 64);
            sendRegion = own(pd.registerMemory(sendBuffers, EnumSet.of(MemoryAccess.LOCAL_WRITE)));
            freeSendSlots = new int[sendSlots];
            writesBeforeSend = new long[sendSlots];
            unsignaledWrites = new long[sendQueue];
            sendViews = new ByteBuffer[sendSlots];
            for (int slot = 0; slot < sendSlots; slot++) {
                freeSendSlots[freeSendCount++] = sendSlots - 1 - slot;
                sendViews[slot] = sendBuffers.asSlice((long) slot * SEND_SLOT, SEND_SLOT).asByteBuffer();
            }
            receiveView = receiveBuffers.asByteBuffer();
            for (int slot = 0; slot < receives; slot++) {
                postReceive(slot);
            }
            this.thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::run);
            id.accept(ConnectionParameters.withPrivateData(IserPortal.ACCEPT_PRIVATE_DATA));
            // Last: a handler is a connection of the target's, which only the thread's end forgets.
            this.handler = handlers.apply(this);
            decoder.setDataPlacement(handler);
            decoder.setScsiCommandHolder(commandHolder);
        } catch (RuntimeException e) {
            freeResources(e);
            throw e;
        }
    }

    private <T extends RdmaResource> T own(T resource) {
        owned.addFirst(resource);
        return resource;
    }

    void start() {
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    CmId id() {
        return id;
    }

    // ------------------------------------------------------------------ the connection's thread

    private void run() {
        Throwable cause = null;
        WorkCompletion[] batch = new WorkCompletion[16];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = new WorkCompletion();
        }
        try {
            while (!closing) {
                int n = cq.pollSpinning(batch, CompletionQueue.IDLE_SPIN_NANOS);
                if (n == 0) {
                    cq.requestNotification(false);
                    n = cq.poll(batch);
                    if (n == 0) {
                        cq.awaitNotification(POLL_WAIT);
                        continue;
                    }
                }
                // Counted first: handling may end the connection half-way through the batch.
                for (int i = 0; i < n; i++) {
                    countCompletion(batch[i].wrId());
                }
                for (int i = 0; i < n; i++) {
                    handle(batch[i]);
                }
            }
        } catch (IserFormatException | PduFormatException e) {
            LOG.log(Level.WARNING, "iSER connection from " + remote + ": malformed message (field " + e.field()
                    + "), closing: " + e.getMessage());
            if (e instanceof PduFormatException p) {
                handler.malformed(p);
            }
            cause = e;
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "iSER connection from " + remote + " failed", e);
            cause = e;
        } catch (InterruptedException e) {
            cause = e;
        } catch (RuntimeException e) {
            // A bug, not the peer's doing: say so loudly, and end only this connection.
            LOG.log(Level.ERROR, "iSER connection from " + remote + " closed after an internal error", e);
            cause = e;
        } finally {
            close();
            awaitFlush(batch);
            qp.close();
            try {
                handler.closed(cause);
            } finally {
                freeResources(null);
                onExit.run();
            }
        }
    }

    private void handle(WorkCompletion wc) throws IOException {
        long kind = wc.wrId() & KIND;
        if (closing) {
            return; // only counted: the teardown frees what the work used
        }
        if (!wc.isSuccess()) {
            if (wc.status() != WorkCompletionStatus.FLUSH_ERROR) {
                LOG.log(Level.WARNING, "iSER connection from " + remote + ": " + describe(kind) + " failed with "
                        + wc.status() + " (vendor error " + wc.vendorError() + "); closing");
            }
            close();
            return;
        }
        long value = wc.wrId() & ~KIND;
        if (kind == SEND) {
            retireWrites();
        } else if (kind == RECEIVE) {
            received((int) value, wc.byteLength());
        } else if (kind == RDMA_WRITE) {
            rdma.written(value); // a signaled one: the ring was full
        } else if (kind == RDMA_READ) {
            rdma.read(value);
        }
    }

    /** Gives the mover back the buffers of the unsignaled writes the Sends polled so far vouch for. */
    private void retireWrites() {
        long done = writesDone;
        // Entries below writesDone were written under the lock before countCompletion read the
        // Send's mark under it, and a poster reuses one only after it is retired.
        for (long n = writesRetired; n < done; n++) {
            rdma.written(unsignaledWrites[(int) (n % unsignaledWrites.length)]);
            writesRetired = n + 1;
        }
    }

    /** Accounts for one completion; a send's slot is free again. */
    private void countCompletion(long wrId) {
        if ((wrId & KIND) == RECEIVE) {
            return;
        }
        lock.lock();
        try {
            if ((wrId & KIND) == RDMA_WRITE && (wrId & UNSIGNALED) != 0) {
                return; // only an error completes it: it was never counted
            }
            outstanding--;
            if ((wrId & KIND) == SEND) {
                int slot = (int) (wrId & ~KIND);
                writesDone = Math.max(writesDone, writesBeforeSend[slot]);
                freeSendSlots[freeSendCount++] = slot;
                slotFreed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private static String describe(long kind) {
        return kind == RECEIVE ? "a receive" : kind == SEND ? "a send" : kind == RDMA_WRITE ? "an RDMA Write"
                : "an RDMA Read";
    }

    private void received(int slot, int length) throws IOException {
        long at = (long) slot * RECV_SLOT;
        if (length < IserMessage.LENGTH) {
            throw new IserFormatException("Length", "an iSER message of " + length
                    + " bytes is shorter than the " + IserMessage.LENGTH + "-byte iSER header");
        }
        byte flags = receiveBuffers.get(ValueLayout.JAVA_BYTE, at);
        IserOpcode opcode = IserOpcode.of(flags);
        if (opcode != IserOpcode.ISCSI_CONTROL) {
            throw new IserFormatException("Opcode", "a " + opcode
                    + " message on an established connection; this target takes iSCSI control-type PDUs only");
        }
        ByteBuffer bytes = receiveView.clear().limit((int) at + length).position((int) at + IserMessage.LENGTH);
        Pdu pdu = decoder.decode(bytes);
        boolean heldCommand = pdu == null && decoder.heldOpcode() == Opcode.SCSI_COMMAND;
        if ((pdu == null && !heldCommand) || bytes.hasRemaining()) {
            throw new PduFormatException("DataSegmentLength", "an iSER message of " + length + " bytes holds "
                    + (pdu == null ? "less" : "more") + " than the one iSCSI PDU its header announces");
        }
        // The decoder copied the PDU out: the buffer can take the next message.
        postReceive(slot);
        CommandHeader c = heldCommand ? commandHolder : pdu instanceof ScsiCommand record ? record : null;
        if (c != null && !IserStags.anyValid(flags)) {
            spare(tagged.remove(c.initiatorTaskTag()));
        } else if (c != null) {
            IserStags stags = tagged.get(c.initiatorTaskTag());
            if (stags == null) {
                if (tagged.size() >= maxTaggedCommands) {
                    throw new IserFormatException("Write STag", "more than " + maxTaggedCommands
                            + " commands with RDMA buffers outstanding");
                }
                stags = spareStags.isEmpty() ? new IserStags() : spareStags.pop();
                tagged.put(c.initiatorTaskTag(), stags);
            }
            stags.decode(flags, receiveBuffers, at);
        } else if (IserStags.anyValid(flags)) {
            throw new IserFormatException((flags & IserHeader.RSV) != 0 ? "RSV" : "WSV", "an STag on a "
                    + pdu.opcode() + "; only SCSI commands carry RDMA buffers");
        }
        if (heldCommand) {
            handler.receivedCommand(commandHolder);
        } else {
            handler.received(pdu);
        }
    }

    private void postReceive(int slot) {
        lock.lock();
        try {
            qp.postReceive(receive.reset().wrId(RECEIVE | slot).add(receiveRegion, (long) slot * RECV_SLOT, RECV_SLOT));
        } finally {
            lock.unlock();
        }
    }

    /** Polls until every posted send and RDMA operation has come back (flushed), bounded. */
    private void awaitFlush(WorkCompletion[] batch) {
        long deadline = System.nanoTime() + FLUSH_WAIT.toNanos();
        try {
            while (outstandingNow() > 0 && System.nanoTime() - deadline < 0) {
                int n = cq.poll(batch);
                for (int i = 0; i < n; i++) {
                    countCompletion(batch[i].wrId());
                }
                if (n == 0) {
                    cq.requestNotification(false);
                    if (cq.poll(batch) == 0) {
                        cq.awaitNotification(Duration.ofMillis(20));
                    } else {
                        cq.requestNotification(false);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "iSER connection from " + remote + ": polling the flush failed", e);
        }
        int left = outstandingNow();
        if (left > 0) {
            LOG.log(Level.WARNING, "iSER connection from " + remote + ": " + left + " work requests not flushed within "
                    + FLUSH_WAIT.toMillis() + " ms; destroying the queue pair anyway");
        }
    }

    private int outstandingNow() {
        lock.lock();
        try {
            return outstanding;
        } finally {
            lock.unlock();
        }
    }

    /** Frees, child first, whatever the constructor allocated, then the CM id unless it failed. */
    private void freeResources(RuntimeException constructorFailure) {
        RuntimeException failure = null;
        for (RdmaResource r : owned) {
            try {
                r.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        owned.clear();
        arena.close();
        if (constructorFailure != null) {
            if (failure != null) {
                constructorFailure.addSuppressed(failure);
            }
            return;
        }
        try {
            id.close();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            LOG.log(Level.ERROR, "iSER connection from " + remote + ": freeing its RDMA resources failed", failure);
        }
    }

    // ------------------------------------------------------------------ for the data mover

    void rdmaCompletions(RdmaCompletions completions) {
        this.rdma = completions;
    }

    /**
     * Copies into {@code into} the STags that came with SCSI command {@code initiatorTaskTag} and
     * forgets them; false (and {@code into} untouched) if it had none.
     */
    boolean takeTags(int initiatorTaskTag, IserStags into) {
        IserStags stags = tagged.remove(initiatorTaskTag);
        if (stags == null) {
            return false;
        }
        into.copyFrom(stags);
        spare(stags);
        return true;
    }

    private void spare(IserStags stags) {
        if (stags != null) {
            spareStags.push(stags);
        }
    }

    /** Registers a data buffer of the mover's in this connection's protection domain. */
    MemoryRegion register(MemorySegment buffer, Set<MemoryAccess> access) {
        return pd.registerMemory(buffer, access);
    }

    /** RDMA-Writes {@code length} bytes of {@code region} to the initiator's buffer; see {@link RdmaCompletions#written}. */
    void rdmaWrite(MemoryRegion region, int length, int stag, long remoteAddress, long token) throws IOException {
        lock.lock();
        try {
            requireOpen();
            if (writesPosted - writesRetired < unsignaledWrites.length) {
                // Unsignaled: no completion of its own; the response's Send, posted next, retires it.
                qp.postSend(send.reset().wrId(RDMA_WRITE | UNSIGNALED | token).opcode(SendOpcode.RDMA_WRITE)
                        .signaled(false).remote(remoteAddress, stag).add(region, 0, length));
                unsignaledWrites[(int) (writesPosted % unsignaledWrites.length)] = token;
                writesPosted++;
                return;
            }
        } finally {
            lock.unlock();
        }
        postRdma(SendOpcode.RDMA_WRITE, RDMA_WRITE | token, region, 0, length, stag, remoteAddress);
    }

    /**
     * RDMA-Reads {@code length} bytes from the initiator's buffer into {@code region} at {@code offset};
     * see {@link RdmaCompletions#read}.
     */
    void rdmaRead(MemoryRegion region, long offset, int length, int stag, long remoteAddress, long token)
            throws IOException {
        postRdma(SendOpcode.RDMA_READ, RDMA_READ | token, region, offset, length, stag, remoteAddress);
    }

    private void postRdma(SendOpcode opcode, long wrId, MemoryRegion region, long offset, int length, int stag,
                          long remoteAddress) throws IOException {
        lock.lock();
        try {
            requireOpen();
            qp.postSend(send.reset().wrId(wrId).opcode(opcode).remote(remoteAddress, stag).add(region, offset, length));
            outstanding++;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ PduTransport

    @Override
    public void send(Pdu pdu) throws IOException {
        lock.lock();
        try {
            requireOpen();
            int length = encoder.encodedLength(pdu);
            if (IserMessage.LENGTH + length > SEND_SLOT) {
                throw new IOException("a " + pdu.opcode() + " of " + length + " bytes does not fit the "
                        + SEND_SLOT + "-byte iSER send buffers of the connection from " + remote);
            }
            int slot = takeSendSlot();
            long at = (long) slot * SEND_SLOT;
            IserHeader.PLAIN.encode(sendBuffers, at);
            // Header, data and padding straight into the slot: no view or copy of the PDU is made.
            int dataAt = IserMessage.LENGTH + encoder.encodeHeader(pdu, sendViews[slot].clear().position(IserMessage.LENGTH));
            int data = pdu.dataSegmentLength();
            MemorySegment.copy(pdu.data(), 0, sendBuffers, at + dataAt, data);
            for (long i = at + dataAt + data; i < at + IserMessage.LENGTH + length; i++) {
                sendBuffers.set(ValueLayout.JAVA_BYTE, i, (byte) 0); // padding
            }
            writesBeforeSend[slot] = writesPosted;
            qp.postSend(send.reset().wrId(SEND | slot).add(sendRegion, (long) slot * SEND_SLOT,
                    IserMessage.LENGTH + length));
            outstanding++;
        } finally {
            lock.unlock();
        }
    }

    /** A SCSI Response without data: its header encoded straight from the caller's holder into a send slot. */
    @Override
    public void sendScsiResponse(ScsiResponseHolder response) throws IOException {
        lock.lock();
        try {
            requireOpen();
            int slot = takeSendSlot();
            IserHeader.PLAIN.encode(sendBuffers, (long) slot * SEND_SLOT);
            int length = IserMessage.LENGTH + encoder.encodeHeader(response,
                    sendViews[slot].clear().position(IserMessage.LENGTH));
            writesBeforeSend[slot] = writesPosted;
            qp.postSend(send.reset().wrId(SEND | slot).add(sendRegion, (long) slot * SEND_SLOT, length));
            outstanding++;
        } finally {
            lock.unlock();
        }
    }

    /** A free send buffer (lock held); waits (bounded) for one, except on this connection's own thread. */
    private int takeSendSlot() throws IOException {
        long left = SEND_SLOT_WAIT.toNanos();
        while (freeSendCount == 0) {
            // Only this connection's thread frees slots: it must not wait for itself.
            if (Thread.currentThread() == thread || left <= 0) {
                throw new IOException("no free iSER send buffer on the connection from " + remote
                        + ": the initiator does not take what is sent");
            }
            try {
                left = slotFreed.awaitNanos(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for an iSER send buffer", e);
            }
            requireOpen();
        }
        return freeSendSlots[--freeSendCount];
    }

    private void requireOpen() throws IOException {
        if (closing) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public void flush() {
        // Sends are posted at once.
    }

    @Override
    public void setDigests(boolean header, boolean data) {
        if (header || data) {
            // loginKeys() allows None only, so a negotiation that gave digests is a bug.
            throw new IllegalStateException("iSER carries no digests (RFC 7145 §6.1), yet login settled header "
                    + header + ", data " + data);
        }
    }

    @Override
    public void setMaxRecvDataSegmentLength(int bytes) {
        if (bytes > RECV_DATA_SEGMENT) {
            throw new IllegalStateException("iSER receive buffers hold " + RECV_DATA_SEGMENT + " data bytes, not " + bytes);
        }
        decoder.setMaxRecvDataSegmentLength(bytes);
    }

    @Override
    public Map<String, String> loginKeys() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(Keys.RDMA_EXTENSIONS, Keys.YES);
        keys.put(Keys.HEADER_DIGEST, Keys.NONE);
        keys.put(Keys.DATA_DIGEST, Keys.NONE);
        // Write data beyond the immediate part is fetched by RDMA Read: no unsolicited Data-Out.
        keys.put(Keys.INITIAL_R2T, Keys.YES);
        keys.put(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(RECV_DATA_SEGMENT));
        keys.put(Keys.TARGET_RECV_DATA_SEGMENT_LENGTH, Integer.toString(RECV_DATA_SEGMENT));
        keys.put(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS, Integer.toString(UNEXPECTED_PDUS));
        return keys;
    }

    @Override
    public boolean requiresRdmaExtensions() {
        return true;
    }

    @Override
    public String remoteAddress() {
        return remote;
    }

    @Override
    public String localAddress() {
        return local.getAddress().getHostAddress();
    }

    @Override
    public int localPort() {
        return local.getPort();
    }

    /** Starts the teardown (see the class comment); idempotent, any thread. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
            slotFreed.signalAll();
            // Under the lock: the thread closes the id only after its own close() got the lock.
            id.disconnect();
        } finally {
            lock.unlock();
        }
    }
}
