package io.ostia.api.iser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The iSER header of an iSCSI control-type PDU (RFC 7145 §9.2; Linux {@code struct iser_ctrl}).
 * For a SCSI read the initiator advertises the buffer the target RDMA-Writes into (RSV, Read
 * STag, Read Base Offset); for a write, the buffer the target RDMA-Reads the solicited data from
 * (WSV, Write STag, Write Base Offset). A STag that is not valid is sent as zero.
 *
 * @param writeStagValid WSV: {@code writeStag} and {@code writeBaseOffset} are meaningful
 * @param writeStag the STag (rkey) of the write buffer
 * @param writeBaseOffset the address the target reads from, for the first solicited byte
 * @param readStagValid RSV: {@code readStag} and {@code readBaseOffset} are meaningful
 * @param readStag the STag (rkey) of the read buffer
 * @param readBaseOffset the address the target writes to, for the first byte
 */
public record IserHeader(boolean writeStagValid, int writeStag, long writeBaseOffset, boolean readStagValid,
        int readStag, long readBaseOffset) implements IserMessage {

    /** WSV, the Write STag Valid flag. */
    public static final int WSV = 0x08;
    /** RSV, the Read STag Valid flag. */
    public static final int RSV = 0x04;

    /** The header of a PDU without RDMA data: login, text, NOP, logout, and commands without data. */
    public static final IserHeader PLAIN = new IserHeader(false, 0, 0, false, 0, 0);

    public IserHeader {
        if (!writeStagValid && (writeStag != 0 || writeBaseOffset != 0)) {
            throw new IllegalArgumentException("a Write STag without WSV");
        }
        if (!readStagValid && (readStag != 0 || readBaseOffset != 0)) {
            throw new IllegalArgumentException("a Read STag without RSV");
        }
    }

    /** The header of a SCSI read: the target RDMA-Writes the data to {@code address} under {@code stag}. */
    public static IserHeader read(int stag, long address) {
        return new IserHeader(false, 0, 0, true, stag, address);
    }

    /** The header of a SCSI write: the target RDMA-Reads the solicited data from {@code address} under {@code stag}. */
    public static IserHeader write(int stag, long address) {
        return new IserHeader(true, stag, address, false, 0, 0);
    }

    @Override
    public IserOpcode opcode() {
        return IserOpcode.ISCSI_CONTROL;
    }

    /** The first byte: opcode and the valid flags. */
    public int flags() {
        return flags(writeStagValid, readStagValid);
    }

    private static int flags(boolean writeStagValid, boolean readStagValid) {
        return IserOpcode.ISCSI_CONTROL.code() << 4 | (writeStagValid ? WSV : 0) | (readStagValid ? RSV : 0);
    }

    @Override
    public void encode(MemorySegment segment, long offset) {
        encode(segment, offset, writeStagValid, writeStag, writeBaseOffset, readStagValid, readStag, readBaseOffset);
    }

    /**
     * Writes the 28 bytes of a header with these fields without making one: a data path encodes
     * a header per command. A STag whose valid flag is clear is written as zero.
     */
    public static void encode(MemorySegment segment, long offset, boolean writeStagValid, int writeStag,
                              long writeBaseOffset, boolean readStagValid, int readStag, long readBaseOffset) {
        int flags = flags(writeStagValid, readStagValid);
        // Every byte is written (flags, three reserved, the two STags and offsets): nothing to clear first.
        segment.set(IserWire.INT, offset, flags << 24);
        segment.set(IserWire.INT, offset + 4, writeStagValid ? writeStag : 0);
        segment.set(IserWire.LONG, offset + 8, writeStagValid ? writeBaseOffset : 0);
        segment.set(IserWire.INT, offset + 16, readStagValid ? readStag : 0);
        segment.set(IserWire.LONG, offset + 20, readStagValid ? readBaseOffset : 0);
    }

    /** A STag whose valid flag is clear is ignored, as a receiver must. */
    static IserHeader decodeControl(byte flags, MemorySegment message) {
        boolean wsv = (flags & WSV) != 0;
        boolean rsv = (flags & RSV) != 0;
        return new IserHeader(wsv, wsv ? writeStag(message, 0) : 0, wsv ? writeBaseOffset(message, 0) : 0,
                rsv, rsv ? readStag(message, 0) : 0, rsv ? readBaseOffset(message, 0) : 0);
    }

    /** The Write STag of the header at {@code at}, read without making a header (a data path reads one per command). */
    public static int writeStag(MemorySegment message, long at) {
        return message.get(IserWire.INT, at + 4);
    }

    /** The Write Base Offset of the header at {@code at}. */
    public static long writeBaseOffset(MemorySegment message, long at) {
        return message.get(IserWire.LONG, at + 8);
    }

    /** The Read STag of the header at {@code at}. */
    public static int readStag(MemorySegment message, long at) {
        return message.get(IserWire.INT, at + 16);
    }

    /** The Read Base Offset of the header at {@code at}. */
    public static long readBaseOffset(MemorySegment message, long at) {
        return message.get(IserWire.LONG, at + 20);
    }
}
