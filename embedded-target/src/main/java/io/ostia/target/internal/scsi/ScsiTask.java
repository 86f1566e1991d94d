package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;

import io.ostia.target.internal.store.BackingStore;

import java.lang.foreign.MemorySegment;

/**
 * One SCSI command crossing from the transport to a logical unit and back. The transport fills
 * the inputs, the logical unit fills the outputs. Not thread-safe: one task is executed by one
 * thread at a time.
 */
public final class ScsiTask {

    private static final MemorySegment NO_DATA = MemorySegment.ofArray(new byte[0]);

    // Inputs
    private final byte[] cdb = new byte[16];
    private Nexus nexus;
    private MemorySegment dataOut = NO_DATA;
    private MemorySegment dataIn = NO_DATA;

    // Outputs
    private ScsiStatus status = ScsiStatus.GOOD;
    private SenseData sense;
    private long dataInLength;
    private long transferLength;
    private long expectedInLength;
    private BackingStore readSource;
    private long readOffset;

    /**
     * Prepares the task for a command.
     *
     * @param cdbBytes the CDB (up to 16 bytes are kept; the rest must be zero for our commands)
     * @param dataOut  the data the initiator sent (its size is what arrived)
     * @param dataIn   where Data-In goes; its size is the initiator's expected transfer length
     */
    public ScsiTask reset(byte[] cdbBytes, Nexus nexus, MemorySegment dataOut, MemorySegment dataIn) {
        return reset(cdbBytes, nexus, dataOut, dataIn, dataIn == null ? 0 : dataIn.byteSize());
    }

    /**
     * As {@link #reset(byte[], Nexus, MemorySegment, MemorySegment)}, with an expected Data-In
     * length that may exceed {@code dataIn}: block reads beyond it are deferred (see
     * {@link #readSource()}).
     */
    public ScsiTask reset(byte[] cdbBytes, Nexus nexus, MemorySegment dataOut, MemorySegment dataIn,
                          long expectedInLength) {
        int n = Math.min(cdbBytes.length, 16);
        System.arraycopy(cdbBytes, 0, cdb, 0, n);
        java.util.Arrays.fill(cdb, n, 16, (byte) 0);
        this.nexus = nexus;
        this.dataOut = dataOut == null ? NO_DATA : dataOut;
        this.dataIn = dataIn == null ? NO_DATA : dataIn;
        this.status = ScsiStatus.GOOD;
        this.sense = null;
        this.dataInLength = 0;
        this.transferLength = 0;
        this.readSource = null;
        this.expectedInLength = expectedInLength;
        return this;
    }

    public byte[] cdb() {
        return cdb;
    }

    public int opcode() {
        return cdb[0] & 0xff;
    }

    public Nexus nexus() {
        return nexus;
    }

    public MemorySegment dataOut() {
        return dataOut;
    }

    public MemorySegment dataIn() {
        return dataIn;
    }

    /** The initiator's expected Data-In length. */
    public long expectedLength() {
        return expectedInLength;
    }

    public ScsiStatus status() {
        return status;
    }

    public SenseData sense() {
        return sense;
    }

    /** Bytes placed in {@link #dataIn()}. */
    public long dataInLength() {
        return dataInLength;
    }

    /**
     * Bytes the command itself asked to move (by its transfer or allocation length, limited to
     * what exists); the transport compares it with the expected length for residuals.
     */
    public long transferLength() {
        return transferLength;
    }

    void fail(ScsiStatusException e) {
        fail(e.status(), e.sense());
    }

    void fail(ScsiStatus status, SenseData sense) {
        this.status = status;
        this.sense = sense;
        this.dataInLength = 0;
        this.readSource = null;
    }

    /**
     * Block data too large for {@link #dataIn()}: {@link #dataInLength()} bytes starting at
     * {@link #readOffset()} of {@link #readSource()}, for the transport to read piece by piece
     * as it sends them (so a read never needs a buffer of its full size).
     */
    void deferRead(BackingStore store, long offset, long wanted, long length) {
        this.readSource = store;
        this.readOffset = offset;
        this.transferLength = wanted;
        this.dataInLength = length;
    }

    /** The store a deferred read comes from, or null when the data is in {@link #dataIn()}. */
    public BackingStore readSource() {
        return readSource;
    }

    /** The byte offset in {@link #readSource()} of a deferred read. */
    public long readOffset() {
        return readOffset;
    }

    /** Declares the command's transfer length in bytes (for Data-Out commands). */
    void transferLength(long bytes) {
        this.transferLength = bytes;
    }

    /**
     * Returns {@code data[0, available)} as parameter data limited by {@code allocationLength},
     * truncated further to the Data-In buffer.
     */
    void returnData(byte[] data, int available, long allocationLength) {
        long wanted = Math.min(available, allocationLength);
        transferLength = wanted;
        long n = Math.min(wanted, dataIn.byteSize());
        MemorySegment.copy(MemorySegment.ofArray(data), 0, dataIn, 0, n);
        dataInLength = n;
    }

    /** Marks {@code bytes} of block data, already in {@link #dataIn()}, as returned. */
    void returnedBlocks(long wanted, long placed) {
        transferLength = wanted;
        dataInLength = placed;
    }
}
