package io.ostia.transport.tcp.internal;

import io.ostia.api.ProtocolException;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.spi.TransportTask;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A task's data movement on one connection: where its Data-In must land next, which R2T comes
 * next.
 *
 * <p>{@link #lock} is held by whoever touches the task buffer (the receive thread placing a
 * Data-In segment, a sender writing a Data-Out) and by {@link #finishWithin}, so that once a
 * task is finished, by its status, a cleanup or the connection's stop, nobody touches its
 * buffer again. Lock order: task lock before the sender's lock.
 */
final class TaskState {

    final TransportTask task;
    final ScsiCommand command;
    final MemorySegment buffer;
    final ReentrantLock lock = new ReentrantLock();

    /** Guarded by {@link #lock}. */
    private boolean finished;
    /** The buffer as a ByteBuffer for Data-Out, made at the first; guarded by {@link #lock}. */
    private ByteBuffer dataOutView;
    /** Touched by the receive thread only. */
    private int nextDataSN;
    private int nextR2TSN;

    TaskState(TransportTask task, ScsiCommand command) {
        this.task = task;
        this.command = command;
        this.buffer = task.buffer();
    }

    /**
     * Bytes {@code [offset, offset + length)} of the buffer for a Data-Out: one view per task,
     * repositioned for each PDU, so the PDUs of a write allocate nothing (a buffer beyond what a
     * ByteBuffer can span gets a view per PDU). Caller holds {@link #lock}.
     */
    ByteBuffer dataOutView(long offset, long length) {
        if (buffer.byteSize() > Integer.MAX_VALUE) {
            return buffer.asSlice(offset, length).asByteBuffer();
        }
        if (dataOutView == null) {
            dataOutView = buffer.asByteBuffer();
        }
        return dataOutView.limit((int) (offset + length)).position((int) offset);
    }

    int itt() {
        return command.initiatorTaskTag();
    }

    /** Caller holds {@link #lock}. */
    boolean finished() {
        return finished;
    }

    /**
     * Marks the task finished once nobody touches its buffer; waits for a placement or a send
     * in progress, at most {@code timeoutNanos}.
     *
     * @return false when the lock could not be had in time
     */
    boolean finishWithin(long timeoutNanos) throws InterruptedException {
        if (!lock.tryLock(timeoutNanos, TimeUnit.NANOSECONDS)) {
            return false;
        }
        try {
            finished = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks a Data-In header before its data is read into the buffer: a read task, DataSN in
     * order, the segment within the buffer (whose size is the expected transfer length).
     */
    void acceptDataIn(int dataSN, int bufferOffset, int dataSegmentLength, String peer) throws ProtocolException {
        if (!command.read()) {
            throw new ProtocolException("InitiatorTaskTag", "Data-In from " + peer + " for task "
                    + hex(itt()) + ", which is not a read");
        }
        if (dataSN != nextDataSN) {
            throw new ProtocolException("DataSN", "Data-In from " + peer + " for task " + hex(itt()) + " has DataSN "
                    + Integer.toUnsignedString(dataSN) + ", expected " + nextDataSN);
        }
        long offset = Integer.toUnsignedLong(bufferOffset);
        if (offset + dataSegmentLength > buffer.byteSize()) {
            throw new ProtocolException("BufferOffset", "Data-In from " + peer + " for task " + hex(itt())
                    + " puts " + dataSegmentLength + " bytes at BufferOffset " + offset
                    + ", beyond the expected data transfer length " + buffer.byteSize());
        }
        nextDataSN++;
    }

    /**
     * Checks an R2T: a write task, R2TSN in order, a desired length within MaxBurstLength and
     * an extent within the buffer.
     */
    void acceptR2T(ReadyToTransfer r2t, TcpParameters parameters, String peer) throws ProtocolException {
        if (!command.write()) {
            throw new ProtocolException("InitiatorTaskTag", "R2T from " + peer + " for task " + hex(itt())
                    + ", which is not a write");
        }
        if (r2t.r2tSN() != nextR2TSN) {
            throw new ProtocolException("R2TSN", "R2T from " + peer + " for task " + hex(itt()) + " has R2TSN "
                    + Integer.toUnsignedString(r2t.r2tSN()) + ", expected " + nextR2TSN);
        }
        if (r2t.targetTransferTag() == -1) {
            throw new ProtocolException("TargetTransferTag", "R2T from " + peer + " for task " + hex(itt())
                    + " has the reserved TargetTransferTag 0xffffffff");
        }
        long length = Integer.toUnsignedLong(r2t.desiredDataTransferLength());
        if (length == 0 || length > parameters.maxBurstLength()) {
            throw new ProtocolException("DesiredDataTransferLength", "R2T from " + peer + " for task "
                    + hex(itt()) + " asks for " + length + " bytes; it must be 1.." + parameters.maxBurstLength()
                    + " (MaxBurstLength)");
        }
        long offset = Integer.toUnsignedLong(r2t.bufferOffset());
        if (offset + length > buffer.byteSize()) {
            throw new ProtocolException("BufferOffset", "R2T from " + peer + " for task " + hex(itt()) + " asks for "
                    + length + " bytes at BufferOffset " + offset + ", beyond the expected data transfer length "
                    + buffer.byteSize());
        }
        nextR2TSN++;
    }

    static String hex(int tag) {
        return String.format("0x%08x", tag);
    }

    static MemorySegment slice(MemorySegment buffer, long offset, long length) {
        return length == 0 ? io.ostia.api.pdu.Pdu.NO_DATA : buffer.asSlice(offset, length);
    }

    /** What a task must be for the TCP transport to carry it: the PDU model's checks, and not bidirectional. */
    static void checkTask(ScsiCommand command, MemorySegment buffer) throws io.ostia.api.TransportException {
        if (command.read() && command.write() || command.expectedBidirectionalReadDataLength().isPresent()) {
            throw new io.ostia.api.TransportException("task " + hex(command.initiatorTaskTag())
                    + " is bidirectional, which the TCP transport does not support");
        }
        command.checkTaskBuffer(buffer);
    }
}
