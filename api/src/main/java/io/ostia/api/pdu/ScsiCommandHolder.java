package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * A SCSI Command (RFC 7143 §11.3) in a reusable holder rather than in a
 * new {@link ScsiCommand} record and CDB array: a target's connection owns one and its {@link
 * PduDecoder} fills it ({@link PduDecoder#setScsiCommandHolder}), so a command is decoded without
 * an object each. It is the {@link CommandHeader} view the encoder takes; its immediate data, if
 * any, is {@link #data()}, in the segment the decoder's placement chose.
 *
 * <p><b>Lifetime:</b> the fields, and the array {@link #cdb()} returns, are those of the PDU last
 * decoded into it and change with the next one. Whoever is handed a holder reads it during that
 * call and never keeps it or its CDB array; a command kept beyond the call (held for a CmdSN gap,
 * waiting for its data) is taken as {@link #toRecord()}, which copies the CDB, or copied into a
 * holder of the keeper's own ({@link #copyOf}). Not thread-safe:
 * the connection's receiving thread owns it.
 */
public final class ScsiCommandHolder implements CommandHeader {

    /** The BHS CDB field, reused; a longer CDB (Extended CDB AHS, rare) gets an array of its own. */
    private final byte[] bhsCdb = new byte[ScsiCommand.BHS_CDB_LENGTH];
    private boolean immediate;
    private boolean finalFlag;
    private boolean read;
    private boolean write;
    private ScsiCommand.TaskAttribute attribute = ScsiCommand.TaskAttribute.SIMPLE;
    private long lun;
    private int initiatorTaskTag;
    private int expectedDataTransferLength;
    private int cmdSN;
    private int expStatSN;
    private byte[] cdb = bhsCdb;
    private boolean bidirectional;
    private int bidirectionalReadLength;
    /** Where the immediate data was placed: its first {@link #dataSegmentLength} bytes hold it. */
    private MemorySegment placed = Pdu.NO_DATA;
    private int dataSegmentLength;

    /**
     * Fills the fields from the SCSI Command header at 0 of {@code header}, its {@code ahsLength}
     * bytes of AHS after the BHS: the one place the command's layout is decoded, held or a record.
     */
    void fill(ByteBuffer header, int ahsLength) throws PduFormatException {
        int flags = header.get(1) & 0xff;
        byte[] extended = null;
        boolean bidi = false;
        int bidiLength = 0;
        int offset = PduEncoder.BHS_LENGTH;
        int end = PduEncoder.BHS_LENGTH + ahsLength;
        while (offset < end) {
            if (end - offset < 4) {
                throw new PduFormatException("AHSLength", "an AHS header needs 4 bytes, " + (end - offset) + " left");
            }
            int length = header.getShort(offset) & 0xffff;
            int type = header.get(offset + 2) & 0xff;
            int segmentLength = 4 + PduEncoder.paddedLength(Math.max(length - 1, 0));
            if (length == 0 || offset + segmentLength > end) {
                throw new PduFormatException("AHSLength", "AHSLength " + length + " of AHS type " + type
                        + " does not fit the " + (end - offset) + " bytes left of TotalAHSLength");
            }
            switch (type) {
                case PduEncoder.AHS_TYPE_EXTENDED_CDB -> {
                    if (extended != null) {
                        throw new PduFormatException("AHSType", "two Extended CDB AHS in one SCSI Command");
                    }
                    extended = new byte[ScsiCommand.BHS_CDB_LENGTH + length - 1];
                    header.get(32, extended, 0, ScsiCommand.BHS_CDB_LENGTH);
                    header.get(offset + 4, extended, ScsiCommand.BHS_CDB_LENGTH, length - 1);
                }
                case PduEncoder.AHS_TYPE_BIDIRECTIONAL_READ_LENGTH -> {
                    if (length != 5) {
                        throw new PduFormatException("AHSLength", "AHSLength " + length
                                + " of a Bidirectional Expected Read-Data Length AHS, which must be 5");
                    }
                    bidi = true;
                    bidiLength = header.getInt(offset + 4);
                }
                default -> throw new PduFormatException("AHSType", "AHSType " + type + " is not defined by RFC 7143");
            }
            offset += segmentLength;
        }
        attribute = CodedValue.find(ScsiCommand.TaskAttribute.class, flags & 0x07, "ATTR");
        if (extended == null) {
            header.get(32, bhsCdb);
        }
        cdb = extended != null ? extended : bhsCdb;
        bidirectional = bidi;
        placed = Pdu.NO_DATA;
        dataSegmentLength = 0;
        bidirectionalReadLength = bidiLength;
        immediate = (header.get(0) & 0x40) != 0;
        finalFlag = (flags & 0x80) != 0;
        read = (flags & 0x40) != 0;
        write = (flags & 0x20) != 0;
        lun = header.getLong(8);
        initiatorTaskTag = header.getInt(16);
        expectedDataTransferLength = header.getInt(20);
        cmdSN = header.getInt(24);
        expStatSN = header.getInt(28);
    }

    /**
     * Makes this holder a copy of {@code command}'s fields and CDB (into its own array; a CDB
     * that is not the BHS's 16 bytes gets a new one), without data: a command kept beyond the
     * call that handed it over, in a holder its keeper reuses instead of a record per command
     * (the target's iSER write waiting for its RDMA Read). Valid until its keeper copies again.
     */
    public void copyOf(CommandHeader command) {
        byte[] source = command.cdb();
        if (source.length == bhsCdb.length) {
            System.arraycopy(source, 0, bhsCdb, 0, bhsCdb.length);
            cdb = bhsCdb;
        } else {
            cdb = Arrays.copyOf(source, source.length);
        }
        OptionalInt bidirectionalRead = command.expectedBidirectionalReadDataLength();
        bidirectional = bidirectionalRead.isPresent();
        bidirectionalReadLength = bidirectionalRead.orElse(0);
        placed = Pdu.NO_DATA;
        dataSegmentLength = 0;
        immediate = command.immediate();
        finalFlag = command.finalFlag();
        read = command.read();
        write = command.write();
        attribute = command.attribute();
        lun = command.lun();
        initiatorTaskTag = command.initiatorTaskTag();
        expectedDataTransferLength = command.expectedDataTransferLength();
        cmdSN = command.cmdSN();
        expStatSN = command.expStatSN();
    }

    /** The decoder's: the immediate data, once read, in the first {@code length} bytes of {@code placed}. */
    void data(MemorySegment placed, int length) {
        this.placed = placed;
        this.dataSegmentLength = length;
    }

    /**
     * The record of the same fields with a copy of the CDB, and the same data segment (the
     * placement's, or the decoder's own heap segment), for whatever outlives the call.
     */
    public ScsiCommand toRecord() {
        return new ScsiCommand(immediate, finalFlag, read, write, attribute, lun, initiatorTaskTag,
                expectedDataTransferLength, cmdSN, expStatSN, Arrays.copyOf(cdb, cdb.length),
                expectedBidirectionalReadDataLength(), data());
    }

    /**
     * The immediate data (empty without), valid as the holder is: the placement's segment, or a
     * slice of its start when the placement gave a longer one (see {@link #placedData()} to take
     * it without one).
     */
    public MemorySegment data() {
        return DataPlacement.leading(placed, dataSegmentLength);
    }

    /**
     * The segment the immediate data was placed in, valid as the holder is: the data is its first
     * {@link #dataSegmentLength()} bytes, and it may be longer (a {@link DataPlacement} may give
     * a larger buffer). For a receiver that takes the data without a slice per command.
     *
     * @since 0.8
     */
    public MemorySegment placedData() {
        return placed;
    }

    /**
     * The DataSegmentLength: how many bytes of immediate data the command carried.
     *
     * @since 0.8
     */
    public int dataSegmentLength() {
        return dataSegmentLength;
    }

    @Override
    public boolean immediate() {
        return immediate;
    }

    @Override
    public boolean finalFlag() {
        return finalFlag;
    }

    @Override
    public boolean read() {
        return read;
    }

    @Override
    public boolean write() {
        return write;
    }

    @Override
    public ScsiCommand.TaskAttribute attribute() {
        return attribute;
    }

    @Override
    public long lun() {
        return lun;
    }

    @Override
    public int initiatorTaskTag() {
        return initiatorTaskTag;
    }

    @Override
    public int expectedDataTransferLength() {
        return expectedDataTransferLength;
    }

    @Override
    public int cmdSN() {
        return cmdSN;
    }

    @Override
    public int expStatSN() {
        return expStatSN;
    }

    /** The held CDB array: read it during the call, never keep or change it (see the class comment). */
    @Override
    public byte[] cdb() {
        return cdb;
    }

    /** The Bidirectional Expected Read-Data Length AHS, if any (an OptionalInt only when present: rare). */
    @Override
    public OptionalInt expectedBidirectionalReadDataLength() {
        return bidirectional ? OptionalInt.of(bidirectionalReadLength) : OptionalInt.empty();
    }

    @Override
    public String toString() {
        return "held " + toRecord();
    }
}
