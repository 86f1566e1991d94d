package io.ostia.target.internal.iscsi;

import io.ostia.api.iser.IserFormatException;
import io.ostia.api.pdu.CommandHeader;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.DataPlacement;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiCommandHolder;
import io.ostia.api.pdu.TaskTagTable;
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
import java.util.ArrayDeque;
import java.util.EnumSet;
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

    /** Registers each block of the pool once, for as long as it lives: the pool keeps the region with the block. */
    private final class Registrations implements BufferPool.Listener {
        @Override
        public Object allocated(MemorySegment block) {
            return transport.register(block, LOCAL_WRITE);
        }

        @Override
        public void freeing(MemorySegment block, Object region) {
            ((MemoryRegion) region).close();
        }
    }

    /** A write whose solicited data is being RDMA-Read; reused (see {@link #spareWrites}). */
    private static final class PendingWrite {
        /** A copy of the command, reused with the entry: no record per write. */
        final ScsiCommandHolder command = new ScsiCommandHolder();
        LogicalUnit unit;
        long expected;
        MemorySegment buffer;
        boolean aborted;
    }

    private final IscsiConnection connection;
    private final IserPortalConnection transport;
    private final Registrations registrations = new Registrations();
    private final BufferPool buffers;
    /** Writes fetching their data, by initiator task tag (the RDMA Read's token). */
    private final TaskTagTable<PendingWrite> writes = new TaskTagTable<>(64);
    private final ArrayDeque<PendingWrite> spareWrites = new ArrayDeque<>();
    /** Read data being RDMA-Written, by token: the token is the index (free ones on a stack). */
    private MemorySegment[] readsOut = new MemorySegment[64];
    private int[] freeTokens = new int[64];
    private int freeTokenCount;
    private int tokensMade;
    private MemorySegment placedImmediate;
    private MemoryRegion placedImmediateRegion;
    /** The STags of the command being run, filled by command(); a read's are used by respond(). */
    private final IserStags tags = new IserStags();
    /** The read command's buffer and its registration: set by dataInBuffer(), used by respond(). */
    private MemorySegment readBuffer;
    private MemoryRegion readRegion;

    /** @param writeBudget the target's write budget, shared by its connections */
    RdmaDataMover(IscsiConnection connection, IserPortalConnection transport, WriteBudget writeBudget) {
        this.connection = connection;
        this.transport = transport;
        this.buffers = new BufferPool(writeBudget, registrations);
        transport.rdmaCompletions(this);
    }

    @Override
    public MemorySegment destination(Pdu header, int length) {
        return header instanceof ScsiCommand c ? commandDestination(c, length) : null;
    }

    @Override
    public MemorySegment commandDestination(CommandHeader c, int length) {
        placedImmediate = buffers.forImmediateData(c, length);
        if (placedImmediate == null) {
            return null;
        }
        placedImmediateRegion = region(placedImmediate);
        return placedImmediate; // may be longer than the immediate data: the decoder fills its start
    }

    @Override
    public void command(CommandHeader c, MemorySegment placed, int immediateLength, LogicalUnit unit)
            throws IOException {
        MemorySegment immediateBuffer = placedImmediate;
        MemoryRegion immediateRegion = placedImmediateRegion;
        placedImmediate = null;
        placedImmediateRegion = null;
        boolean tagged = transport.takeTags(c.initiatorTaskTag(), tags);
        long expected = Integer.toUnsignedLong(c.expectedDataTransferLength());
        if (c.write() && c.read()) {
            give(immediateBuffer);
            connection.respondSense(c, SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 0, -1),
                    expected);
            return;
        }
        if (!c.write()) {
            read(c, placed, immediateLength, unit, tagged, expected);
            return;
        }
        SessionParameters params = connection.parameters();
        long immediate = immediateLength;
        if (immediate > expected || immediate > params.firstBurstLength() || (immediate > 0 && !params.immediateData())
                || !c.finalFlag()) {
            // Or unsolicited Data-Out announced (F clear): iSER portals negotiate InitialR2T=Yes.
            give(immediateBuffer);
            connection.reject(Reject.Reason.PROTOCOL_ERROR,
                    ScsiCommand.of(c).withData(DataMover.immediateData(placed, immediateLength)));
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
        if (immediate < expected && (!tagged || !tags.writeStagValid())) {
            give(immediateBuffer);
            throw new IserFormatException("WSV", "a write of " + expected + " bytes with " + immediate
                    + " immediate carries no Write STag for the rest");
        }
        MemorySegment buffer = immediateBuffer;
        MemoryRegion region = immediateRegion;
        if (buffer == null) {
            buffer = buffers.take(expected);
            region = region(buffer);
            if (immediate > 0) {
                MemorySegment.copy(placed, 0, buffer, 0, immediate);
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
        PendingWrite write = spareWrites.isEmpty() ? new PendingWrite() : spareWrites.pop();
        write.command.copyOf(c); // waits for its RDMA Read beyond this call
        write.unit = unit;
        write.expected = expected;
        write.buffer = buffer;
        write.aborted = false;
        writes.put(c.initiatorTaskTag(), write);
        // The Write Base Offset addresses the first solicited byte (RFC 7145 §9.2; Linux iser).
        transport.rdmaRead(region, immediate, (int) (expected - immediate), tags.writeStag(),
                tags.writeBaseOffset(), Integer.toUnsignedLong(c.initiatorTaskTag()));
    }

    private void read(CommandHeader c, MemorySegment placed, int immediateLength, LogicalUnit unit, boolean tagged,
            long expected) throws IOException {
        if (immediateLength > 0) {
            connection.reject(Reject.Reason.PROTOCOL_ERROR,
                    ScsiCommand.of(c).withData(DataMover.immediateData(placed, immediateLength))); // immediate data on a command without the W bit
            return;
        }
        if (c.read() && expected > 0) {
            if (!tagged || !tags.readStagValid()) {
                throw new IserFormatException("RSV", "a read of " + expected + " bytes carries no Read STag");
            }
            if (!admitted(c, unit, expected, false)) {
                return;
            }
        }
        try {
            connection.runCommand(c, unit, null, expected);
        } finally {
            give(readBuffer);
            readBuffer = null;
            readRegion = null;
        }
    }

    /**
     * Whether a buffer of {@code expected} bytes may be lent; if not, the command is answered:
     * TASK SET FULL over the target's budget (unless the buffer is lent already), CHECK CONDITION
     * when too large or without an LU.
     */
    private boolean admitted(CommandHeader c, LogicalUnit unit, long expected, boolean lent) throws IOException {
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

    /** The registration of a buffer the pool lent (made when its block was allocated). */
    private MemoryRegion region(MemorySegment lent) {
        return (MemoryRegion) buffers.attachment(lent);
    }

    private void give(MemorySegment buffer) {
        if (buffer != null) {
            buffers.give(buffer);
        }
    }

    /** A token for an RDMA Write of {@code buffer}, which stays lent until {@link #written}. */
    private int readOut(MemorySegment buffer) {
        if (freeTokenCount == 0) {
            if (tokensMade == readsOut.length) {
                readsOut = java.util.Arrays.copyOf(readsOut, tokensMade * 2);
                freeTokens = java.util.Arrays.copyOf(freeTokens, tokensMade * 2);
            }
            freeTokens[freeTokenCount++] = tokensMade++;
        }
        int token = freeTokens[--freeTokenCount];
        readsOut[token] = buffer;
        return token;
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
                connection.runCommand(write.command, write.unit, write.buffer, write.expected);
            }
        } finally {
            buffers.give(write.buffer);
            write.unit = null;
            write.buffer = null;
            spareWrites.push(write);
        }
    }

    @Override
    public void written(long token) {
        if (token >= 0 && token < tokensMade && readsOut[(int) token] != null) {
            buffers.give(readsOut[(int) token]);
            readsOut[(int) token] = null;
            freeTokens[freeTokenCount++] = (int) token;
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
        for (PendingWrite write : writes.values()) { // a snapshot: task management, not the data path
            if (unit == null || write.unit == unit) {
                write.aborted = true;
            }
        }
    }

    @Override
    public MemorySegment dataInBuffer(long expectedLength) {
        readBuffer = buffers.take(expectedLength);
        readRegion = region(readBuffer);
        return readBuffer;
    }

    @Override
    public void respond(CommandHeader c, ScsiTask t, long expected) throws IOException {
        long transfer = t.transferLength();
        boolean overflow = transfer > expected;
        boolean underflow = transfer < expected;
        int residual = DataMover.residual(transfer, expected);
        long length = t.dataInLength();
        if (length > 0) {
            MemorySegment data = DataPlacement.leading(readBuffer, length);
            BackingStore source = t.readSource();
            if (source != null) {
                try {
                    // Straight into the registered buffer (a RAM store copies, a file reads): no view.
                    source.read(t.readOffset(), data);
                } catch (IOException e) {
                    LOG.log(Level.ERROR, connection.describe() + ": reading the LUN failed", e);
                    connection.respondSense(c, SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR),
                            expected);
                    return;
                }
            }
            MemoryRegion region = readRegion;
            int token = readOut(readBuffer);
            readBuffer = null; // now the RDMA Write's, until its completion
            readRegion = null;
            // RC keeps order: the data is in the initiator's buffer before the response arrives,
            // and the response's Send completion stands for the (unsignaled) write's.
            transport.rdmaWrite(region, (int) length, tags.readStag(), tags.readBaseOffset(), token);
        }
        SenseData sense = t.sense();
        MemorySegment senseData = sense == null ? Pdu.NO_DATA : IscsiConnection.senseSegment(sense);
        connection.respond(c.initiatorTaskTag(), t.status().code(), overflow, underflow, residual, 0, senseData);
    }

    @Override
    public void close() {
        // The queue pair is gone: closing the pool deregisters and frees every buffer.
        writes.removeAll();
        java.util.Arrays.fill(readsOut, null);
        freeTokenCount = 0;
        tokensMade = 0;
        placedImmediate = null;
        placedImmediateRegion = null;
        readBuffer = null;
        readRegion = null;
        buffers.close();
    }
}
