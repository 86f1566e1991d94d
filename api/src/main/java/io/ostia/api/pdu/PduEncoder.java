package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes PDUs in RFC 7143 wire format. The header (BHS, AHS, header digest) goes into a caller
 * buffer; the data segment stays where it is, so that a transport can gather-write
 * [header, data segment, {@linkplain #encodeTrailer trailer}] without copying it. {@link #encode}
 * writes a whole PDU contiguously for callers that want that.
 *
 * <p>Immutable: make a new encoder when digests are switched on after login.
 */
public final class PduEncoder {
    /** Length of the Basic Header Segment. */
    public static final int BHS_LENGTH = 48;
    /** The largest header: BHS, 255 words of AHS and a header digest. */
    public static final int MAX_HEADER_LENGTH = BHS_LENGTH + 255 * 4 + Digests.LENGTH;

    /** AHS types of RFC 7143 §11.2.2; the decoder reads the same. */
    static final int AHS_TYPE_EXTENDED_CDB = 1;
    static final int AHS_TYPE_BIDIRECTIONAL_READ_LENGTH = 2;

    private final boolean headerDigest;
    private final boolean dataDigest;

    public PduEncoder(boolean headerDigest, boolean dataDigest) {
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    /** The 0..3 zero bytes that pad a data segment to a four-byte boundary. */
    public static int paddingLength(long dataSegmentLength) {
        return (int) (-dataSegmentLength & 3);
    }

    /** The data segment length rounded up to four bytes, as it occupies the wire. */
    public static int paddedLength(int dataSegmentLength) {
        return dataSegmentLength + paddingLength(dataSegmentLength);
    }

    /** Bytes of BHS + AHS + header digest that {@link #encodeHeader} writes for this PDU. */
    public int headerLength(Pdu pdu) {
        return BHS_LENGTH + ahsLength(pdu) + (headerDigest ? Digests.LENGTH : 0);
    }

    /** Bytes after the data segment: padding, and the data digest when on and there is data. */
    public int trailerLength(int dataSegmentLength) {
        if (dataSegmentLength == 0) {
            return 0;
        }
        return paddingLength(dataSegmentLength) + (dataDigest ? Digests.LENGTH : 0);
    }

    /** The whole PDU's length on the wire. */
    public int encodedLength(Pdu pdu) {
        int dataSegmentLength = pdu.dataSegmentLength();
        return headerLength(pdu) + dataSegmentLength + trailerLength(dataSegmentLength);
    }

    /**
     * Writes BHS, AHS and (if on) the header digest at {@code dst}'s position and advances it.
     *
     * @return the number of bytes written, {@link #headerLength(Pdu)}
     * @throws java.nio.BufferOverflowException if {@code dst} has less room than that
     */
    public int encodeHeader(Pdu pdu, ByteBuffer dst) {
        return encodeHeader(pdu, pdu.dataSegmentLength(), -1, dst);
    }

    /**
     * Writes the header of {@code command} as sent with {@code immediateDataLength} bytes of
     * immediate data and the given F bit, as {@link #encodeHeader(Pdu, ByteBuffer)} would for
     * {@code command.withImmediateData(data, finalFlag)}, without that record per send. The
     * caller sends the immediate data after the header itself.
     *
     * @return the number of bytes written, {@link #headerLength(Pdu)}
     * @throws IllegalArgumentException if {@code immediateDataLength} is negative or exceeds the
     *                                  command's expected data transfer length
     * @throws java.nio.BufferOverflowException if {@code dst} has less room than the header
     */
    public int encodeCommandHeader(ScsiCommand command, int immediateDataLength, boolean finalFlag, ByteBuffer dst) {
        return encodeCommandHeader((CommandHeader) command, immediateDataLength, finalFlag, dst);
    }

    /**
     * Writes a SCSI Command header from {@code command}'s fields, as {@link
     * #encodeCommandHeader(ScsiCommand, int, boolean, ByteBuffer)} does for the record of the same
     * fields: a transport encodes a session layer's task straight into its send buffer.
     *
     * @return the number of bytes written: BHS, AHS (Extended CDB, Bidirectional Expected
     *     Read-Data Length) and header digest
     * @throws IllegalArgumentException if {@code immediateDataLength} is negative or exceeds the
     *                                  command's expected data transfer length, or the CDB is
     *                                  empty or longer than {@link ScsiCommand#MAX_CDB_LENGTH}
     * @throws java.nio.BufferOverflowException if {@code dst} has less room than the header
     */
    public int encodeCommandHeader(CommandHeader command, int immediateDataLength, boolean finalFlag, ByteBuffer dst) {
        if (immediateDataLength < 0
                || Integer.toUnsignedLong(immediateDataLength) > Integer.toUnsignedLong(command.expectedDataTransferLength())) {
            throw new IllegalArgumentException("immediate data of " + immediateDataLength + " bytes for a command whose "
                    + "ExpectedDataTransferLength is " + Integer.toUnsignedString(command.expectedDataTransferLength()));
        }
        int cdbLength = command.cdb().length;
        if (cdbLength == 0 || cdbLength > ScsiCommand.MAX_CDB_LENGTH) {
            throw new IllegalArgumentException("CDB length " + cdbLength + " of task 0x"
                    + Integer.toHexString(command.initiatorTaskTag()) + " is outside 1.." + ScsiCommand.MAX_CDB_LENGTH);
        }
        int ahsLength = commandAhsLength(command);
        int headerLength = BHS_LENGTH + ahsLength + (headerDigest ? Digests.LENGTH : 0);
        if (dst.remaining() < headerLength) {
            throw new java.nio.BufferOverflowException();
        }
        // In place when it can be: a slice per PDU is garbage at every command.
        boolean inPlace = ahsLength == 0 && !headerDigest && dst.order() == ByteOrder.BIG_ENDIAN;
        ByteBuffer out = inPlace ? dst : dst.slice(dst.position(), headerLength).order(ByteOrder.BIG_ENDIAN);
        int at = inPlace ? dst.position() : 0;
        writeCommon(out, at, command.immediate(), Opcode.SCSI_COMMAND, ahsLength, immediateDataLength,
                command.initiatorTaskTag());
        writeCommandFields(command, out, at);
        out.put(at + 1, (byte) ((out.get(at + 1) & 0x7f) | (finalFlag ? 0x80 : 0)));
        finishHeader(command, out, ahsLength);
        dst.position(dst.position() + headerLength);
        return headerLength;
    }

    /** {@code finalBit} -1 keeps the PDU's own F bit, else byte 1's 0x80 is set to it. */
    private int encodeHeader(Pdu pdu, int dataSegmentLength, int finalBit, ByteBuffer dst) {
        int ahsLength = ahsLength(pdu);
        int headerLength = BHS_LENGTH + ahsLength + (headerDigest ? Digests.LENGTH : 0);
        if (dst.remaining() < headerLength) {
            throw new java.nio.BufferOverflowException();
        }
        if (ahsLength == 0 && !headerDigest && dst.order() == ByteOrder.BIG_ENDIAN) {
            // The common case, written in place: a slice per PDU is garbage at every command.
            writeBhs(pdu, dst, dst.position(), 0, dataSegmentLength, finalBit);
            dst.position(dst.position() + headerLength);
            return headerLength;
        }
        ByteBuffer out = dst.slice(dst.position(), headerLength).order(ByteOrder.BIG_ENDIAN);
        writeBhs(pdu, out, 0, ahsLength, dataSegmentLength, finalBit);
        finishHeader(pdu instanceof ScsiCommand command ? command : null, out, ahsLength);
        dst.position(dst.position() + headerLength);
        return headerLength;
    }

    /** AHS and header digest after a BHS written at 0 of {@code out}, a slice of exactly the header. */
    private void finishHeader(CommandHeader command, ByteBuffer out, int ahsLength) {
        if (ahsLength > 0) {
            writeAhs(command, out.position(BHS_LENGTH));
        }
        if (headerDigest) {
            int digest = Digests.crc32c(out.slice(0, BHS_LENGTH + ahsLength));
            Digests.put(out.position(BHS_LENGTH + ahsLength), digest);
        }
    }

    /** Writes the padding and (if on) the data digest of {@code pdu}'s data segment. */
    public void encodeTrailer(Pdu pdu, ByteBuffer dst) {
        int dataSegmentLength = pdu.dataSegmentLength();
        encodeTrailer(dataSegmentLength, dataDigest && dataSegmentLength > 0 ? Digests.dataDigest(pdu.data()) : 0,
                dst);
    }

    /**
     * Writes the padding and (if on) a data digest computed elsewhere, for example with {@link
     * Digests#dataDigest(java.util.List)} over the slices of a scattered data segment.
     */
    public void encodeTrailer(int dataSegmentLength, int dataDigestValue, ByteBuffer dst) {
        if (dataSegmentLength == 0) {
            return;
        }
        for (int i = paddingLength(dataSegmentLength); i > 0; i--) {
            dst.put((byte) 0);
        }
        if (dataDigest) {
            Digests.put(dst, dataDigestValue);
        }
    }

    /** Writes the whole PDU (header, data, padding, digests) at {@code dst}'s position. */
    public void encode(Pdu pdu, ByteBuffer dst) {
        if (dst.remaining() < encodedLength(pdu)) {
            throw new java.nio.BufferOverflowException();
        }
        encodeHeader(pdu, dst);
        // Copied segment to segment: a ByteBuffer view of the data (and its read-only twin) per PDU is garbage.
        MemorySegment data = pdu.data();
        int length = (int) data.byteSize();
        if (length > 0) {
            if (dst.hasArray()) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, dst.array(), dst.arrayOffset() + dst.position(), length);
            } else {
                MemorySegment.copy(data, 0, MemorySegment.ofBuffer(dst), 0, length); // the segment starts at the position
            }
            dst.position(dst.position() + length);
        }
        encodeTrailer(pdu, dst);
    }

    /** The whole PDU in a new heap buffer, flipped for reading. */
    public ByteBuffer encode(Pdu pdu) {
        ByteBuffer buffer = ByteBuffer.allocate(encodedLength(pdu));
        encode(pdu, buffer);
        return buffer.flip();
    }

    static int ahsLength(Pdu pdu) {
        return pdu instanceof ScsiCommand command ? commandAhsLength(command) : 0;
    }

    private static int commandAhsLength(CommandHeader command) {
        int length = 0;
        if (command.cdb().length > ScsiCommand.BHS_CDB_LENGTH) {
            length += 4 + PduEncoder.paddedLength(command.cdb().length - ScsiCommand.BHS_CDB_LENGTH);
        }
        if (command.expectedBidirectionalReadDataLength().isPresent()) {
            length += 8;
        }
        return length;
    }

    private static void writeAhs(CommandHeader command, ByteBuffer out) {
        byte[] cdb = command.cdb();
        if (cdb.length > ScsiCommand.BHS_CDB_LENGTH) {
            int extension = cdb.length - ScsiCommand.BHS_CDB_LENGTH;
            out.putShort((short) (extension + 1)); // AHSLength counts the reserved byte
            out.put((byte) AHS_TYPE_EXTENDED_CDB);
            out.put((byte) 0);
            out.put(cdb, ScsiCommand.BHS_CDB_LENGTH, extension);
            for (int i = paddingLength(extension); i > 0; i--) {
                out.put((byte) 0);
            }
        }
        if (command.expectedBidirectionalReadDataLength().isPresent()) {
            out.putShort((short) 5);
            out.put((byte) AHS_TYPE_BIDIRECTIONAL_READ_LENGTH);
            out.put((byte) 0);
            out.putInt(command.expectedBidirectionalReadDataLength().getAsInt());
        }
    }

    private static int bit(boolean flag, int mask) {
        return flag ? mask : 0;
    }

    private static void putSequenceNumbers(ByteBuffer b, int at, int statSN, int expCmdSN, int maxCmdSN) {
        b.putInt(at + 24, statSN);
        b.putInt(at + 28, expCmdSN);
        b.putInt(at + 32, maxCmdSN);
    }

    private static void putLoginFlags(ByteBuffer b, int at, boolean transit, boolean continueFlag, LoginStage current,
            LoginStage next) {
        b.put(at + 1, (byte) (bit(transit, 0x80) | bit(continueFlag, 0x40) | current.code() << 2 | next.code()));
    }

    /**
     * Writes the header of a Data-Out whose data segment has {@code dataSegmentLength} bytes, as
     * {@link #encodeHeader} writes a {@link DataOut} with these fields, without one: a transport
     * that sends a write's Data-Out PDUs from a view of the task buffer allocates nothing per PDU.
     *
     * @return the number of bytes written
     * @throws java.nio.BufferOverflowException if {@code dst} has less room than the header
     */
    public int encodeDataOutHeader(boolean finalFlag, long lun, int initiatorTaskTag, int targetTransferTag,
            int expStatSN, int dataSN, int bufferOffset, int dataSegmentLength, ByteBuffer dst) {
        int headerLength = BHS_LENGTH + (headerDigest ? Digests.LENGTH : 0);
        if (dst.remaining() < headerLength) {
            throw new java.nio.BufferOverflowException();
        }
        ByteBuffer out = dst.order() == ByteOrder.BIG_ENDIAN ? dst : dst.duplicate().order(ByteOrder.BIG_ENDIAN);
        int at = dst.position();
        writeCommon(out, at, false, Opcode.DATA_OUT, 0, dataSegmentLength, initiatorTaskTag);
        writeDataOut(out, at, finalFlag, lun, targetTransferTag, expStatSN, dataSN, bufferOffset);
        if (headerDigest) {
            Digests.put(out.position(at + BHS_LENGTH), Digests.crc32c(out.slice(at, BHS_LENGTH)));
        }
        dst.position(at + headerLength);
        return headerLength;
    }

    /**
     * Writes the header of the SCSI Response in {@code response} (no data segment), as {@link
     * #encodeHeader(Pdu, ByteBuffer)} writes its {@link ScsiResponseHolder#toRecord() record},
     * without one: a target answers a command without an object per answer.
     *
     * @return the number of bytes written: BHS and header digest
     * @throws java.nio.BufferOverflowException if {@code dst} has less room than the header
     */
    public int encodeHeader(ScsiResponseHolder response, ByteBuffer dst) {
        int headerLength = BHS_LENGTH + (headerDigest ? Digests.LENGTH : 0);
        if (dst.remaining() < headerLength) {
            throw new java.nio.BufferOverflowException();
        }
        ByteBuffer out = dst.order() == ByteOrder.BIG_ENDIAN ? dst : dst.duplicate().order(ByteOrder.BIG_ENDIAN);
        int at = dst.position();
        writeCommon(out, at, false, Opcode.SCSI_RESPONSE, 0, 0, response.initiatorTaskTag());
        writeResponse(out, at, response.bidirectionalReadResidualOverflow(),
                response.bidirectionalReadResidualUnderflow(), response.residualOverflow(), response.residualUnderflow(),
                response.response(), response.status(), response.snackTag(), response.statSN(), response.expCmdSN(),
                response.maxCmdSN(), response.expDataSN(), response.bidirectionalReadResidualCount(),
                response.residualCount());
        if (headerDigest) {
            Digests.put(out.position(at + BHS_LENGTH), Digests.crc32c(out.slice(at, BHS_LENGTH)));
        }
        dst.position(at + headerLength);
        return headerLength;
    }

    /** The fields every BHS has, over a zeroed BHS. */
    private static void writeCommon(ByteBuffer b, int at, boolean immediate, Opcode opcode, int ahsLength,
            int dataSegmentLength, int initiatorTaskTag) {
        for (int i = 0; i < BHS_LENGTH; i += 8) {
            b.putLong(at + i, 0);
        }
        b.put(at, (byte) (bit(immediate, 0x40) | opcode.code()));
        b.put(at + 4, (byte) (ahsLength / 4));
        b.put(at + 5, (byte) (dataSegmentLength >>> 16));
        b.putShort(at + 6, (short) dataSegmentLength);
        b.putInt(at + 16, initiatorTaskTag);
    }

    /** A SCSI Response's own fields, from its record or its holder alike: one place for the layout. */
    private static void writeResponse(ByteBuffer b, int at, boolean bidirectionalReadResidualOverflow,
            boolean bidirectionalReadResidualUnderflow, boolean residualOverflow, boolean residualUnderflow, int response,
            int status, int snackTag, int statSN, int expCmdSN, int maxCmdSN, int expDataSN,
            int bidirectionalReadResidualCount, int residualCount) {
        b.put(at + 1, (byte) (0x80 | bit(bidirectionalReadResidualOverflow, 0x10)
                | bit(bidirectionalReadResidualUnderflow, 0x08) | bit(residualOverflow, 0x04)
                | bit(residualUnderflow, 0x02)));
        b.put(at + 2, (byte) response);
        b.put(at + 3, (byte) status);
        b.putInt(at + 20, snackTag);
        putSequenceNumbers(b, at, statSN, expCmdSN, maxCmdSN);
        b.putInt(at + 36, expDataSN);
        b.putInt(at + 40, bidirectionalReadResidualCount);
        b.putInt(at + 44, residualCount);
    }

    private static void writeDataOut(ByteBuffer b, int at, boolean finalFlag, long lun, int targetTransferTag,
            int expStatSN, int dataSN, int bufferOffset) {
        b.put(at + 1, (byte) bit(finalFlag, 0x80));
        b.putLong(at + 8, lun);
        b.putInt(at + 20, targetTransferTag);
        b.putInt(at + 28, expStatSN);
        b.putInt(at + 36, dataSN);
        b.putInt(at + 40, bufferOffset);
    }

    private static void writeCommandFields(CommandHeader p, ByteBuffer b, int at) {
        b.put(at + 1, (byte) (bit(p.finalFlag(), 0x80) | bit(p.read(), 0x40) | bit(p.write(), 0x20)
                | p.attribute().code()));
        b.putLong(at + 8, p.lun());
        b.putInt(at + 20, p.expectedDataTransferLength());
        b.putInt(at + 24, p.cmdSN());
        b.putInt(at + 28, p.expStatSN());
        b.put(at + 32, p.cdb(), 0, Math.min(p.cdb().length, ScsiCommand.BHS_CDB_LENGTH));
    }

    private static void writeBhs(Pdu pdu, ByteBuffer b, int at, int ahsLength, int dataSegmentLength, int finalBit) {
        writeCommon(b, at, pdu.immediate(), pdu.opcode(), ahsLength, dataSegmentLength, pdu.initiatorTaskTag());
        writeFields(pdu, b, at);
        if (finalBit >= 0) {
            b.put(at + 1, (byte) ((b.get(at + 1) & 0x7f) | finalBit));
        }
    }

    private static void writeFields(Pdu pdu, ByteBuffer b, int at) {
        switch (pdu) {
            case NopOut p -> {
                b.put(at + 1, (byte) 0x80);
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                b.putInt(at + 24, p.cmdSN());
                b.putInt(at + 28, p.expStatSN());
            }
            case ScsiCommand p -> writeCommandFields(p, b, at);
            case TaskManagementRequest p -> {
                b.put(at + 1, (byte) (0x80 | p.function().code()));
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.referencedTaskTag());
                b.putInt(at + 24, p.cmdSN());
                b.putInt(at + 28, p.expStatSN());
                b.putInt(at + 32, p.refCmdSN());
                b.putInt(at + 36, p.expDataSN());
            }
            case LoginRequest p -> {
                putLoginFlags(b, at, p.transit(), p.continueFlag(), p.currentStage(), p.nextStage());
                b.put(at + 2, (byte) p.versionMax());
                b.put(at + 3, (byte) p.versionMin());
                b.putLong(at + 8, p.isid() << 16 | p.tsih());
                b.putShort(at + 20, (short) p.connectionId());
                b.putInt(at + 24, p.cmdSN());
                b.putInt(at + 28, p.expStatSN());
            }
            case TextRequest p -> {
                b.put(at + 1, (byte) (bit(p.finalFlag(), 0x80) | bit(p.continueFlag(), 0x40)));
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                b.putInt(at + 24, p.cmdSN());
                b.putInt(at + 28, p.expStatSN());
            }
            case DataOut p -> writeDataOut(b, at, p.finalFlag(), p.lun(), p.targetTransferTag(), p.expStatSN(),
                    p.dataSN(), p.bufferOffset());
            case LogoutRequest p -> {
                b.put(at + 1, (byte) (0x80 | p.reason().code()));
                b.putShort(at + 20, (short) p.connectionId());
                b.putInt(at + 24, p.cmdSN());
                b.putInt(at + 28, p.expStatSN());
            }
            case SnackRequest p -> {
                b.put(at + 1, (byte) (0x80 | p.type().code()));
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                b.putInt(at + 28, p.expStatSN());
                b.putInt(at + 40, p.begRun());
                b.putInt(at + 44, p.runLength());
            }
            case NopIn p -> {
                b.put(at + 1, (byte) 0x80);
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
            }
            case ScsiResponse p -> writeResponse(b, at, p.bidirectionalReadResidualOverflow(),
                    p.bidirectionalReadResidualUnderflow(), p.residualOverflow(), p.residualUnderflow(), p.response(),
                    p.status(), p.snackTag(), p.statSN(), p.expCmdSN(), p.maxCmdSN(), p.expDataSN(),
                    p.bidirectionalReadResidualCount(), p.residualCount());
            case TaskManagementResponse p -> {
                b.put(at + 1, (byte) 0x80);
                b.put(at + 2, (byte) p.response().code());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
            }
            case LoginResponse p -> {
                putLoginFlags(b, at, p.transit(), p.continueFlag(), p.currentStage(), p.nextStage());
                b.put(at + 2, (byte) p.versionMax());
                b.put(at + 3, (byte) p.versionActive());
                b.putLong(at + 8, p.isid() << 16 | p.tsih());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.put(at + 36, (byte) p.statusClass());
                b.put(at + 37, (byte) p.statusDetail());
            }
            case TextResponse p -> {
                b.put(at + 1, (byte) (bit(p.finalFlag(), 0x80) | bit(p.continueFlag(), 0x40)));
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
            }
            case DataIn p -> {
                b.put(at + 1, (byte) (bit(p.finalFlag(), 0x80) | bit(p.acknowledge(), 0x40)
                        | bit(p.residualOverflow(), 0x04) | bit(p.residualUnderflow(), 0x02)
                        | bit(p.statusPresent(), 0x01)));
                b.put(at + 3, (byte) p.status());
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.putInt(at + 36, p.dataSN());
                b.putInt(at + 40, p.bufferOffset());
                b.putInt(at + 44, p.residualCount());
            }
            case LogoutResponse p -> {
                b.put(at + 1, (byte) 0x80);
                b.put(at + 2, (byte) p.response().code());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.putShort(at + 40, (short) p.time2Wait());
                b.putShort(at + 42, (short) p.time2Retain());
            }
            case ReadyToTransfer p -> {
                b.put(at + 1, (byte) 0x80);
                b.putLong(at + 8, p.lun());
                b.putInt(at + 20, p.targetTransferTag());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.putInt(at + 36, p.r2tSN());
                b.putInt(at + 40, p.bufferOffset());
                b.putInt(at + 44, p.desiredDataTransferLength());
            }
            case AsyncMessage p -> {
                b.put(at + 1, (byte) 0x80);
                b.putLong(at + 8, p.lun());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.put(at + 36, (byte) p.event().code());
                b.put(at + 37, (byte) p.vendorCode());
                b.putShort(at + 38, (short) p.parameter1());
                b.putShort(at + 40, (short) p.parameter2());
                b.putShort(at + 42, (short) p.parameter3());
            }
            case Reject p -> {
                b.put(at + 1, (byte) 0x80);
                b.put(at + 2, (byte) p.reason().code());
                putSequenceNumbers(b, at, p.statSN(), p.expCmdSN(), p.maxCmdSN());
                b.putInt(at + 36, p.dataSN());
            }
        }
    }
}
