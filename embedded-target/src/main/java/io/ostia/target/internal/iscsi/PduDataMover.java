package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.scsi.ScsiTask;
import io.ostia.target.internal.store.BackingStore;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * SCSI data in iSCSI PDUs (RFC 7143), as over TCP: immediate and unsolicited data, R2Ts within
 * MaxOutstandingR2T, Data-Out placed straight into the task's buffer, and Data-In segments of the
 * initiator's MaxRecvDataSegmentLength with the status in the last one when the command succeeded.
 */
final class PduDataMover implements DataMover {

    private static final System.Logger LOG = System.getLogger(PduDataMover.class.getName());
    private static final int NO_TAG = Pdu.RESERVED_TAG;
    /**
     * Data-In that fits is built here; longer block reads are read from the store one Data-In
     * PDU at a time (straight from memory for RAM LUNs).
     */
    private static final int DATA_IN_BUFFER = 256 << 10;

    private final IscsiConnection connection;
    private final PduTransport transport;
    private final BufferPool buffers;
    private final TaskTagTable<WriteTask> writes = new TaskTagTable<>(64);
    private Arena readArena;
    private MemorySegment readBuffer;
    private MemorySegment placedImmediate;
    private boolean placedDataOut;
    private int nextTargetTransferTag = 1;

    /** @param writeBudget the target's write budget, shared by its connections */
    PduDataMover(IscsiConnection connection, PduTransport transport, WriteBudget writeBudget) {
        this.connection = connection;
        this.transport = transport;
        this.buffers = new BufferPool(writeBudget);
    }

    @Override
    public MemorySegment destination(Pdu header, int length) {
        if (header instanceof DataOut d) {
            WriteTask task = writes.get(d.initiatorTaskTag());
            long offset = Integer.toUnsignedLong(d.bufferOffset());
            if (task != null && offset + length <= task.expectedLength) {
                placedDataOut = true;
                return task.buffer.asSlice(offset, length);
            }
        } else if (header instanceof ScsiCommand c) {
            placedImmediate = buffers.forImmediateData(c, length);
            if (placedImmediate != null) {
                return placedImmediate.asSlice(0, length);
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ commands and their write data

    @Override
    public void command(CommandHeader c, MemorySegment placed, int immediateLength, LogicalUnit unit)
            throws IOException {
        MemorySegment data = DataMover.immediateData(placed, immediateLength); // placed exactly: no slice
        MemorySegment immediateBuffer = placedImmediate;
        placedImmediate = null;
        long expected = Integer.toUnsignedLong(c.expectedDataTransferLength());
        if (c.write() && c.read()) {
            connection.respondSense(c, SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 0, -1),
                    expected);
            return;
        }
        if (!c.write()) {
            if (data.byteSize() > 0) {
                connection.reject(Reject.Reason.PROTOCOL_ERROR, ScsiCommand.of(c).withData(data)); // immediate data on a command without the W bit
                return;
            }
            connection.runCommand(c, unit, null, expected);
            return;
        }
        SessionParameters params = connection.parameters();
        long immediate = data.byteSize();
        if (immediate > expected || immediate > params.firstBurstLength()
                || (immediate > 0 && !params.immediateData())) {
            if (immediateBuffer != null) {
                buffers.give(immediateBuffer);
            }
            connection.reject(Reject.Reason.PROTOCOL_ERROR, ScsiCommand.of(c).withData(data));
            return;
        }
        if (expected == 0) {
            connection.runCommand(c, unit, null, 0);
            return;
        }
        if (immediateBuffer == null && !buffers.affords(expected) && expected <= BufferPool.maxBuffer()
                && unit != null) {
            // Within the size limit but over the target's write-buffer budget: try again later.
            connection.respondTaskSetFull(c, expected);
            return;
        }
        if (expected > BufferPool.maxBuffer() || unit == null) {
            // Too large to buffer, or no LU: answer now; any Data-Out for this tag is dropped as unknown.
            if (immediateBuffer != null) {
                buffers.give(immediateBuffer);
            }
            if (unit == null) {
                connection.respondSense(c,
                        SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED), expected);
            } else {
                connection.respondSense(c, SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 0, -1),
                        expected);
            }
            return;
        }
        MemorySegment buffer = immediateBuffer;
        if (buffer == null) {
            buffer = buffers.take(expected);
            if (immediate > 0) {
                MemorySegment.copy(data, 0, buffer, 0, immediate);
            }
        }
        WriteTask task = new WriteTask(DataMover.kept(c), unit, expected, buffer);
        task.received = immediate;
        long unsolicitedEnd = immediate;
        if (!c.finalFlag()) {
            if (params.initialR2T()) {
                buffers.give(buffer);
                connection.reject(Reject.Reason.PROTOCOL_ERROR, ScsiCommand.of(c).withData(data)); // unsolicited Data-Out was not negotiated
                return;
            }
            unsolicitedEnd = Math.min(expected, params.firstBurstLength());
            if (unsolicitedEnd > immediate) {
                task.unsolicited = new WriteTask.Burst(NO_TAG, immediate, unsolicitedEnd - immediate);
            }
        }
        task.nextR2TOffset = unsolicitedEnd;
        if (task.complete()) {
            finishWrite(task);
            return;
        }
        WriteTask previous = writes.put(c.initiatorTaskTag(), task);
        if (previous != null) {
            buffers.give(previous.buffer);
            LOG.log(Level.WARNING, connection.describe() + ": initiator task tag 0x"
                    + Integer.toHexString(c.initiatorTaskTag())
                    + " reused while its write was collecting data; the earlier write is dropped");
        }
        requestData(task);
    }

    private void requestData(WriteTask task) throws IOException {
        SessionParameters params = connection.parameters();
        while (task.outstanding.size() < params.maxOutstandingR2T() && task.nextR2TOffset < task.expectedLength) {
            long length = Math.min(params.maxBurstLength(), task.expectedLength - task.nextR2TOffset);
            int ttt = nextTargetTransferTag++;
            if (nextTargetTransferTag == NO_TAG) {
                nextTargetTransferTag = 1;
            }
            task.outstanding.put(ttt, new WriteTask.Burst(ttt, task.nextR2TOffset, length));
            int offset = (int) task.nextR2TOffset;
            int r2tSN = task.nextR2TSN++;
            ScsiCommand c = task.command;
            connection.sendNumbered(sn -> new ReadyToTransfer(c.lun(), c.initiatorTaskTag(), ttt, sn,
                    connection.expCmdSN(), connection.maxCmdSN(), r2tSN, offset, (int) length), false);
            task.nextR2TOffset += length;
        }
    }

    @Override
    public void dataOut(DataOut d) throws IOException {
        boolean placed = placedDataOut;
        placedDataOut = false;
        WriteTask task = writes.get(d.initiatorTaskTag());
        if (task == null) {
            LOG.log(Level.DEBUG, connection.describe() + ": Data-Out for unknown or finished task 0x"
                    + Integer.toHexString(d.initiatorTaskTag()) + " dropped");
            return;
        }
        WriteTask.Burst burst = d.targetTransferTag() == NO_TAG ? task.unsolicited
                : task.outstanding.get(d.targetTransferTag());
        long offset = Integer.toUnsignedLong(d.bufferOffset());
        long length = d.dataSegmentLength();
        String problem = null;
        if (burst == null) {
            problem = "Target Transfer Tag 0x" + Integer.toHexString(d.targetTransferTag()) + " names no open burst";
        } else if (d.dataSN() != burst.nextDataSN) {
            problem = "DataSN " + Integer.toUnsignedString(d.dataSN()) + " where " + burst.nextDataSN + " was due";
        } else if (offset != burst.nextOffset || offset + length > burst.end) {
            problem = "Buffer Offset " + offset + " length " + length + " outside the expected " + burst.nextOffset
                    + ".." + burst.end;
        } else if (d.finalFlag() != (offset + length == burst.end)) {
            problem = "F bit " + d.finalFlag() + " at offset " + (offset + length) + " of a burst ending at " + burst.end;
        }
        if (problem != null) {
            // A data sequence error at ErrorRecoveryLevel 0: the command ends, the connection stays.
            LOG.log(Level.DEBUG, connection.describe() + ": write 0x" + Integer.toHexString(d.initiatorTaskTag())
                    + " failed: " + problem);
            writes.remove(d.initiatorTaskTag());
            buffers.give(task.buffer);
            connection.respondSense(task.command,
                    SenseData.of(SenseKey.ABORTED_COMMAND, AdditionalSense.DATA_PHASE_ERROR), task.expectedLength);
            return;
        }
        if (!placed && length > 0) {
            MemorySegment.copy(d.data(), 0, task.buffer, offset, length);
        }
        task.lastProgressNanos = System.nanoTime();
        burst.nextOffset += length;
        burst.nextDataSN++;
        task.received += length;
        if (d.finalFlag()) {
            if (burst == task.unsolicited) {
                task.unsolicited = null;
            } else {
                task.outstanding.remove(burst.targetTransferTag);
            }
        }
        if (task.complete()) {
            writes.remove(d.initiatorTaskTag());
            finishWrite(task);
        } else if (d.finalFlag()) {
            requestData(task);
        }
    }

    private void finishWrite(WriteTask task) throws IOException {
        try {
            connection.runCommand(task.command, task.unit, task.buffer, task.expectedLength);
        } finally {
            buffers.give(task.buffer);
        }
    }

    @Override
    public boolean abort(int initiatorTaskTag, long lun) {
        WriteTask task = writes.get(initiatorTaskTag);
        if (task != null && task.command.lun() == lun) {
            writes.remove(initiatorTaskTag);
            buffers.give(task.buffer);
            return true;
        }
        return false;
    }

    @Override
    public void abort(LogicalUnit unit) {
        for (WriteTask task : writes.values()) {
            if ((unit == null || task.unit == unit) && writes.remove(task.command.initiatorTaskTag(), task)) {
                buffers.give(task.buffer);
            }
        }
    }

    @Override
    public boolean expireWrites(long nowNanos, long timeoutNanos) throws IOException {
        for (WriteTask task : writes.values()) {
            if (nowNanos - task.lastProgressNanos > timeoutNanos
                    && writes.remove(task.command.initiatorTaskTag(), task)) {
                LOG.log(Level.DEBUG, connection.describe() + ": write 0x"
                        + Integer.toHexString(task.command.initiatorTaskTag()) + " aborted: no Data-Out for "
                        + timeoutNanos / 1_000_000 + " ms (" + task.received + " of " + task.expectedLength
                        + " bytes came)");
                buffers.give(task.buffer);
                connection.respondSense(task.command,
                        SenseData.of(SenseKey.ABORTED_COMMAND, AdditionalSense.INITIATOR_RESPONSE_TIMEOUT),
                        task.expectedLength);
            }
        }
        return !writes.isEmpty();
    }

    // ------------------------------------------------------------------ reads and status

    @Override
    public MemorySegment dataInBuffer(long expectedLength) {
        return readBuffer(Math.min(expectedLength, DATA_IN_BUFFER));
    }

    /** A slice of the connection's Data-In buffer ({@link #DATA_IN_BUFFER} bytes, allocated once). */
    private MemorySegment readBuffer(long bytes) {
        if (readBuffer == null) {
            readArena = Arena.ofShared();
            readBuffer = readArena.allocate(DATA_IN_BUFFER, 4096);
        }
        return readBuffer.asSlice(0, bytes);
    }

    @Override
    public void respond(CommandHeader c, ScsiTask t, long expected) throws IOException {
        long transfer = t.transferLength();
        boolean overflow = transfer > expected;
        boolean underflow = transfer < expected;
        int residual = DataMover.residual(transfer, expected);
        boolean good = t.status() == ScsiStatus.GOOD;
        long length = t.dataInLength();
        // Data-In PDUs of the initiator's MaxRecvDataSegmentLength, but never beyond the buffer
        // a file LUN's data passes through.
        int segment = Math.min(connection.parameters().initiatorMaxRecvDataSegmentLength(), DATA_IN_BUFFER);
        if (length > 0) {
            BackingStore source = t.readSource();
            int dataSN = 0;
            for (long offset = 0; offset < length; offset += segment) {
                int n = (int) Math.min(segment, length - offset);
                boolean last = offset + n == length;
                MemorySegment data;
                if (source == null) {
                    data = t.dataIn().asSlice(offset, n);
                } else {
                    data = source.view(t.readOffset() + offset, n);
                    if (data == null) {
                        data = readBuffer(n);
                        try {
                            source.read(t.readOffset() + offset, data);
                        } catch (IOException e) {
                            // Data-In already sent cannot be taken back: end the command with the error.
                            LOG.log(Level.ERROR, connection.describe() + ": reading the LUN failed during Data-In", e);
                            connection.respondSense(c,
                                    SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR),
                                    expected);
                            return;
                        }
                    }
                }
                int sn = dataSN++;
                int off = (int) offset;
                MemorySegment payload = data;
                if (last && good) {
                    connection.sendStatusDataIn(c.lun(), c.initiatorTaskTag(), overflow, underflow, sn, off, residual,
                            payload);
                    return;
                }
                transport.send(new DataIn(last, false, false, false, false, 0, c.lun(), c.initiatorTaskTag(),
                        NO_TAG, 0, connection.expCmdSN(), connection.maxCmdSN(), sn, off, 0, payload));
            }
        }
        SenseData sense = t.sense();
        MemorySegment data = sense == null ? Pdu.NO_DATA : IscsiConnection.senseSegment(sense);
        int dataSNs = length > 0 ? (int) ((length + segment - 1) / segment) : 0;
        connection.respond(c.initiatorTaskTag(), t.status().code(), overflow, underflow, residual, dataSNs, data);
    }

    @Override
    public void close() {
        writes.removeAll();
        buffers.close();
        if (readArena != null) {
            readArena.close();
            readArena = null;
        }
    }
}
