package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Argument checks shared by the PDU records' constructors. */
final class PduChecks {
    /** DataSegmentLength is a 24-bit field. */
    static final int MAX_DATA_SEGMENT_LENGTH = 0xff_ffff;

    private PduChecks() {
    }

    static MemorySegment dataSegment(MemorySegment data) {
        Objects.requireNonNull(data, "data");
        if (data.byteSize() > MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("data segment of " + data.byteSize()
                    + " bytes does not fit the 24-bit DataSegmentLength");
        }
        return data;
    }

    /** For opcodes without a data segment: only an empty one is accepted. */
    static void noData(Opcode opcode, MemorySegment data) {
        if (data.byteSize() != 0) {
            throw new IllegalArgumentException(opcode + " has no data segment, got " + data.byteSize() + " bytes");
        }
    }

    /** The ISID: six bytes. */
    static final long MAX_ISID = 0xffff_ffff_ffffL;

    static long isid(long isid) {
        if (isid < 0 || isid > MAX_ISID) {
            throw new IllegalArgumentException("ISID " + Long.toHexString(isid) + " does not fit six bytes");
        }
        return isid;
    }

    static int unsigned16(String name, int value) {
        if ((value & ~0xffff) != 0) {
            throw new IllegalArgumentException(name + " " + value + " is not a 16-bit unsigned value");
        }
        return value;
    }

    static int unsigned8(String name, int value) {
        if ((value & ~0xff) != 0) {
            throw new IllegalArgumentException(name + " " + value + " is not an 8-bit unsigned value");
        }
        return value;
    }
}
