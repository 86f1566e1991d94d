package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * SCSI Command (RFC 7143 §11.3). CDBs of up to 16 bytes travel in the BHS; longer ones (up to
 * 16 + 1019 bytes) put their tail in an Extended CDB AHS. A bidirectional command carries its
 * expected read length in a Bidirectional Expected Read-Data Length AHS.
 *
 * <p>The {@code cdb} array is not copied (this is the hot path): callers must not change it
 * after handing it over. A decoded CDB has the 16 bytes of the BHS field (plus the Extended CDB
 * AHS bytes): the BHS does not say how long a shorter CDB is, the opcode does. Equality compares
 * CDB contents; like every PDU record, the data segment compares as a {@link MemorySegment}
 * (same memory), not by content.
 */
public record ScsiCommand(boolean immediate, boolean finalFlag, boolean read, boolean write,
        TaskAttribute attribute, long lun, int initiatorTaskTag, int expectedDataTransferLength,
        int cmdSN, int expStatSN, byte[] cdb, OptionalInt expectedBidirectionalReadDataLength,
        MemorySegment data) implements Pdu, CommandHeader {

    /** The CDB bytes that fit in the BHS. */
    public static final int BHS_CDB_LENGTH = 16;
    /** An AHS is at most 65535 bytes, the Extended CDB AHS spends one on its reserved byte. */
    public static final int MAX_CDB_LENGTH = BHS_CDB_LENGTH + 1019;

    /** The task attributes of the ATTR field (SAM). */
    public enum TaskAttribute implements CodedValue {
        UNTAGGED(0), SIMPLE(1), ORDERED(2), HEAD_OF_QUEUE(3), ACA(4);

        private final int code;

        TaskAttribute(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public ScsiCommand {
        Objects.requireNonNull(attribute, "attribute");
        Objects.requireNonNull(cdb, "cdb");
        Objects.requireNonNull(expectedBidirectionalReadDataLength, "expectedBidirectionalReadDataLength");
        if (cdb.length == 0 || cdb.length > MAX_CDB_LENGTH) {
            throw new IllegalArgumentException("CDB length " + cdb.length + " is outside 1.." + MAX_CDB_LENGTH);
        }
        data = PduChecks.dataSegment(data);
    }

    /** A command with a simple task attribute, F set, no bidirectional AHS and no immediate data. */
    public static ScsiCommand of(long lun, int initiatorTaskTag, byte[] cdb, boolean read, boolean write,
            int expectedDataTransferLength) {
        return new ScsiCommand(false, true, read, write, TaskAttribute.SIMPLE, lun, initiatorTaskTag,
                expectedDataTransferLength, 0, 0, cdb, OptionalInt.empty(), NO_DATA);
    }

    @Override
    public Opcode opcode() {
        return Opcode.SCSI_COMMAND;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScsiCommand c && immediate == c.immediate && finalFlag == c.finalFlag
                && read == c.read && write == c.write && attribute == c.attribute && lun == c.lun
                && initiatorTaskTag == c.initiatorTaskTag && expectedDataTransferLength == c.expectedDataTransferLength
                && cmdSN == c.cmdSN && expStatSN == c.expStatSN && Arrays.equals(cdb, c.cdb)
                && expectedBidirectionalReadDataLength.equals(c.expectedBidirectionalReadDataLength)
                && data.equals(c.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(initiatorTaskTag, cmdSN, lun, Arrays.hashCode(cdb));
    }

    @Override
    public String toString() {
        return "ScsiCommand[itt=0x" + Integer.toHexString(initiatorTaskTag) + ", cmdSN="
                + Integer.toUnsignedString(cmdSN) + ", expStatSN=" + Integer.toUnsignedString(expStatSN) + ", lun=0x" + Long.toHexString(lun)
                + ", cdb=" + HexFormat.of().formatHex(cdb) + ", " + (read ? "R" : "") + (write ? "W" : "")
                + (immediate ? " immediate" : "") + (finalFlag ? " final" : "") + ", " + attribute
                + ", expectedDataTransferLength=" + Integer.toUnsignedString(expectedDataTransferLength)
                + expectedBidirectionalReadDataLength.stream().mapToObj(l -> ", bidirectionalReadLength=" + l)
                        .findFirst().orElse("")
                + ", data=" + data.byteSize() + " bytes]";
    }

    /**
     * Checks the task a session layer hands a transport, whatever the wire: its data buffer is
     * exactly ExpectedDataTransferLength bytes, and the command carries no data segment (the
     * transport adds immediate data from the buffer itself).
     *
     * @throws IllegalArgumentException naming the task and what is wrong
     */
    public void checkTaskBuffer(MemorySegment buffer) {
        long expected = Integer.toUnsignedLong(expectedDataTransferLength);
        if (buffer.byteSize() != expected) {
            throw new IllegalArgumentException("task " + String.format("0x%08x", initiatorTaskTag) + " has a buffer of "
                    + buffer.byteSize() + " bytes, but its ExpectedDataTransferLength is " + expected);
        }
        if (data.byteSize() != 0) {
            throw new IllegalArgumentException("task " + String.format("0x%08x", initiatorTaskTag)
                    + " carries a data segment; the transport adds immediate data from the task buffer itself");
        }
    }

    /** Whether the CDB needs an Extended CDB AHS. */
    public boolean hasExtendedCdb() {
        return cdb.length > BHS_CDB_LENGTH;
    }

    /** The record of {@code header}'s fields, with no data segment: where a view must become a PDU (tracing, tests). */
    public static ScsiCommand of(CommandHeader header) {
        if (header instanceof ScsiCommand command && command.data.byteSize() == 0) {
            return command;
        }
        return new ScsiCommand(header.immediate(), header.finalFlag(), header.read(), header.write(),
                header.attribute(), header.lun(), header.initiatorTaskTag(), header.expectedDataTransferLength(),
                header.cmdSN(), header.expStatSN(), header.cdb().clone(), header.expectedBidirectionalReadDataLength(),
                NO_DATA); // a view's CDB array may be reused (a holder's is): the record keeps a copy
    }

    @Override
    public ScsiCommand withData(MemorySegment data) {
        return new ScsiCommand(immediate, finalFlag, read, write, attribute, lun, initiatorTaskTag,
                expectedDataTransferLength, cmdSN, expStatSN, cdb, expectedBidirectionalReadDataLength, data);
    }

    /** This command numbered for sending: CmdSN and ExpStatSN are known only at send time. */
    public ScsiCommand withCmdSN(int cmdSN, int expStatSN) {
        return new ScsiCommand(immediate, finalFlag, read, write, attribute, lun, initiatorTaskTag,
                expectedDataTransferLength, cmdSN, expStatSN, cdb, expectedBidirectionalReadDataLength, data);
    }

    /** Immediate data with the F bit: false when unsolicited Data-Out PDUs follow. */
    public ScsiCommand withImmediateData(MemorySegment data, boolean finalFlag) {
        if (finalFlag == this.finalFlag && data.byteSize() == 0 && this.data.byteSize() == 0) {
            return this; // a read, or a write without unsolicited data: nothing changes
        }
        return new ScsiCommand(immediate, finalFlag, read, write, attribute, lun, initiatorTaskTag,
                expectedDataTransferLength, cmdSN, expStatSN, cdb, expectedBidirectionalReadDataLength, data);
    }
}
