package io.ostia.target.internal.iscsi;

import io.ostia.api.iser.IserFormatException;
import io.ostia.api.iser.IserHeader;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.scsi.ScsiTask;
import io.ostia.target.internal.store.BackingStore;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Moves SCSI data over iSER (RFC 7145): read data by RDMA Write into the initiator's buffer named
 * by the command's Read STag, write data beyond the immediate part by RDMA Read from its Write
 * STag; the status goes as a SCSI Response in a Send. R2T and Data-In never cross the wire, and
 * unsolicited Data-Out is not negotiated (InitialR2T=Yes).
 *
 * <p>Each command's buffer comes from the connection's {@link BufferPool}, whose blocks are
 * registered once when allocated (no registration per I/O while the pool reuses them); it goes
 * back when the RDMA operation completes, or with the pool in {@link #close} after the queue pair
 * is gone. Everything runs on the connection's thread (see {@link DataMover}).
 */
final class RdmaDataMover implements DataMover, IserPortalConnection.RdmaCompletions {

    private static final System.Logger LOG = System.getLogger(RdmaDataMover.class.getName());
    private static final Set<MemoryAccess> LOCAL_WRITE = EnumSet.of(MemoryAccess.LOCAL_WRITE);

    /** A registered buffer lent to one transfer. */
    private record Transfer(MemorySegment buffer, MemoryRegion region) {
    }

    /** Registers each block of the pool once, for as long as it lives (by its address). */
    private final class Registrations implements BufferPool.Listener {
        private final Map<Long, MemoryRegion> regions = new HashMap<>();

        @Override
        public void allocated(MemorySegment block) {
            regions.put(block.address(), transport.register(block, LOCAL_WRITE));
        }

        @Override
        public void freeing(MemorySegment block) {
            regions.remove(block.address()).close();
        }

        MemoryRegion of(MemorySegment lent) {
            return regions.get(lent.address());
        }
    }

    /** A write whose solicited data is being RDMA-Read. */
    private static final class PendingWrite {
        final ScsiCommand command;
        final LogicalUnit unit;
        final long expected;
        final Transfer transfer;
        boolean aborted;

        PendingWrite(ScsiCommand command, LogicalUnit unit, long expected, Transfer transfer) {
            this.command = command;
            this.unit = unit;
            this.expected = expected;
            this.transfer = transfer;
        }
    }

    private final IscsiConnection connection;
    private final IserPortalConnection transport;
    private final Registrations registrations = new Registrations();
    private final BufferPool buffers;
    /** Writes fetching their data, by initiator task tag (the RDMA Read's token). */
    private final Map<Integer, PendingWrite> writes = new HashMap<>();
    /** Read data being RDMA-Written, by token. */
    private final Map<Long, Transfer> readsOut = new HashMap<>();
    private MemorySegment placedImmediate;
    /** The read command being run, and its buffer: set by command(), used by respond(). */
    private IserHeader readTags;
    private MemorySegment readBuffer;
    private long nextToken;

    /** @param writeBudget the target's write budget, shared by its connections */
    RdmaDataMover(IscsiConnection connection, IserPortalConnection transport, WriteBudget writeBudget) {
        this.connection = connection;
        this.transport = transport;
        this.buffers = new BufferPool(writeBudget, registrations);
        transport.rdmaCompletions(this);
    }

    @Override
    public MemorySegment destination(Pdu header, int length) {
        placedImmediate = buffers.forImmediateData(header, length);
        return placedImmediate == null ? null : placedImmediate.asSlice(0, length);
    }

    @Override
    public void command(ScsiCommand c, LogicalUnit unit) throws IOException {
        MemorySegment immediateBuffer = placedImmediate;
        placedImmediate = null;
        IserHeader tags = transport.takeTags(c.initiatorTaskTag());
        long expected = Integer.toUnsignedLong(c.expectedDataTransferLength());
        if (c.write() && c.read()) {
            give(immediateBuffer);
            connection.respondSense(c, SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 0, -1),
                    expected);
            return;
        }
        if (!c.write()) {
            read(c, unit, tags, expected);
            return;
        }
        SessionParameters params = connection.parameters();
        long immediate = c.dataSegmentLength();
        if (immediate > expected || immediate > params.firstBurstLength() || (immediate > 0 && !params.immediateData())
                || !c.finalFlag()) {
            // Or unsolicited Data-Out announced (F clear): iSER portals negotiate InitialR2T=Yes.
            give(immediateBuffer);
            connection.reject(Reject.Reason.PROTOCOL_ERROR, c);
            return;
        }
        if (expected == 0) {
            connection.runCommand(c, unit, null, 0);
            return;
        }
        if (!admitted(c, unit, expected, immediateBuffer != null)) {
            give(immediateBuffer);
            return;
        }
        if (immediate < expected && (tags == null || !tags.writeStagValid())) {
            give(immediateBuffer);
            throw new IserFormatException("WSV", "a write of " + expected + " bytes with " + immediate
                    + " immediate carries no Write STag for the rest");
        }
        MemorySegment buffer = immediateBuffer;
        if (buffer == null) {
            buffer = buffers.take(expected);
            if (immediate > 0) {
                MemorySegment.copy(c.data(), 0, buffer, 0, immediate);
            }
        }
        if (immediate == expected) {
            try {
                connection.runCommand(c, unit, buffer, expected);
            } finally {
                buffers.give(buffer);
            }
            return;
        }
        if (writes.containsKey(c.initiatorTaskTag())) {
            buffers.give(buffer);
            throw new IserFormatException("Initiator Task Tag", "task tag 0x" + Integer.toHexString(c.initiatorTaskTag())
                    + " reused while its write is fetching data");
        }
        Transfer transfer = register(buffer);
        writes.put(c.initiatorTaskTag(), new PendingWrite(c, unit, expected, transfer));
        // The Write Base Offset addresses the first solicited byte (RFC 7145 §9.2; Linux iser).
        transport.rdmaRead(transfer.region(), immediate, (int) (expected - immediate), tags.writeStag(),
                tags.writeBaseOffset(), Integer.toUnsignedLong(c.initiatorTaskTag()));
    }

    private void read(ScsiCommand c, LogicalUnit unit, IserHeader tags, long expected) throws IOException {
        if (c.dataSegmentLength() > 0) {
            connection.reject(Reject.Reason.PROTOCOL_ERROR, c); // immediate data on a command without the W bit
            return;
        }
        if (c.read() && expected > 0) {
            if (tags == null || !tags.readStagValid()) {
                throw new IserFormatException("RSV", "a read of " + expected + " bytes carries no Read STag");
            }
            if (!admitted(c, unit, expected, false)) {
                return;
            }
        }
        readTags = tags;
        try {
            connection.runCommand(c, unit, null, expected);
        } finally {
            readTags = null;
            give(readBuffer);
            readBuffer = null;
        }
    }

    /**
     * Whether a buffer of {@code expected} bytes may be lent; if not, the command is answered:
     * TASK SET FULL over the target's budget (unless the buffer is lent already), CHECK CONDITION
     * when too large or without an LU.
     */
    private boolean admitted(ScsiCommand c, LogicalUnit unit, long expected, boolean lent) throws IOException {
        if (expected > BufferPool.maxBuffer() || unit == null) {
            connection.respondSense(c, unit == null
                    ? SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED)
                    : SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 0, -1), expected);
            return false;
        }
        if (!lent && !buffers.affords(expected)) {
            connection.respondTaskSetFull(c, expected);
            return false;
        }
        return true;
    }

    private Transfer register(MemorySegment buffer) {
        return new Transfer(buffer, registrations.of(buffer));
    }

    private void give(MemorySegment buffer) {
        if (buffer != null) {
            buffers.give(buffer);
        }
    }

    private void free(Transfer transfer) {
        buffers.give(transfer.buffer());
    }

    @Override
    public void read(long token) throws IOException {
        PendingWrite write = writes.remove((int) token);
        if (write == null) {
            LOG.log(Level.WARNING, connection.describe() + ": an RDMA Read completed for no write (token " + token + ")");
            return;
        }
        try {
            if (!write.aborted) {
                connection.runCommand(write.command, write.unit, write.transfer.buffer(), write.expected);
            }
        } finally {
            free(write.transfer);
        }
    }

    @Override
    public void written(long token) {
        Transfer transfer = readsOut.remove(token);
        if (transfer != null) {
            free(transfer);
        }
    }

    @Override
    public void dataOut(DataOut d) throws IOException {
        // InitialR2T=Yes and no R2T is ever sent: no Data-Out is due on an iSER connection.
        connection.reject(Reject.Reason.PROTOCOL_ERROR, d);
    }

    @Override
    public boolean abort(int initiatorTaskTag, long lun) {
        PendingWrite write = writes.get(initiatorTaskTag);
        if (write != null && write.command.lun() == lun && !write.aborted) {
            // The RDMA Read is in flight: its completion frees the buffer.
            write.aborted = true;
            return true;
        }
        return false;
    }

    @Override
    public void abort(LogicalUnit unit) {
        for (PendingWrite write : writes.values()) {
            if (unit == null || write.unit == unit) {
                write.aborted = true;
            }
        }
    }

    @Override
    public MemorySegment dataInBuffer(long expectedLength) {
        readBuffer = buffers.take(expectedLength);
        return readBuffer;
    }

    @Override
    public void respond(ScsiCommand c, ScsiTask t, long expected) throws IOException {
        long transfer = t.transferLength();
        boolean overflow = transfer > expected;
        boolean underflow = transfer < expected;
        int residual = (int) (overflow ? transfer - expected : expected - transfer);
        long length = t.dataInLength();
        if (length > 0) {
            MemorySegment data = readBuffer.asSlice(0, length);
            BackingStore source = t.readSource();
            if (source != null) {
                MemorySegment view = source.view(t.readOffset(), length);
                try {
                    if (view != null) {
                        MemorySegment.copy(view, 0, data, 0, length);
                    } else {
                        source.read(t.readOffset(), data);
                    }
                } catch (IOException e) {
                    LOG.log(Level.ERROR, connection.describe() + ": reading the LUN failed", e);
                    connection.respondSense(c, SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR),
                            expected);
                    return;
                }
            }
            long token = nextToken++;
            readsOut.put(token, register(readBuffer));
            readBuffer = null; // now the RDMA Write's, until its completion
            // RC keeps order: the data is in the initiator's buffer before the response arrives.
            transport.rdmaWrite(readsOut.get(token).region(), (int) length, readTags.readStag(),
                    readTags.readBaseOffset(), token);
        }
        SenseData sense = t.sense();
        MemorySegment senseData = sense == null ? Pdu.NO_DATA : IscsiConnection.senseSegment(sense);
        connection.sendNumbered(sn -> new ScsiResponse(false, false, overflow, underflow,
                ScsiResponse.COMMAND_COMPLETED_AT_TARGET, t.status().code(), c.initiatorTaskTag(), 0, sn,
                connection.expCmdSN(), connection.maxCmdSN(), 0, 0, residual, senseData), true);
    }

    @Override
    public void close() {
        // The queue pair is gone: closing the pool deregisters and frees every buffer.
        writes.clear();
        readsOut.clear();
        placedImmediate = null;
        readBuffer = null;
        buffers.close();
    }
}
