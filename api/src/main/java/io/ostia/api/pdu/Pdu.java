package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * One iSCSI PDU: its Basic Header Segment fields (and AHS, for a SCSI Command) as record
 * components, and its data segment as {@link #data()}.
 *
 * <p>Tags and sequence numbers are unsigned 32-bit serial numbers held in {@code int}s; compare
 * them with {@link SerialNumbers}, never with {@code <}. The data segment is never copied by the
 * model: it may be a heap or off-heap segment or a slice of a caller's buffer, and it must not
 * change while the PDU is being encoded.
 */
public sealed interface Pdu
        permits NopOut, ScsiCommand, LoginRequest, TextRequest, DataOut, LoginResponse, FullFeatureTargetPdu,
                HeaderOnlyPdu {

    /** The initiator task tag of PDUs that have none (and of unsolicited target PDUs). */
    int RESERVED_TAG = 0xffffffff;

    /** The zero-length data segment of PDUs without data. */
    MemorySegment NO_DATA = MemorySegment.ofArray(new byte[0]);

    Opcode opcode();

    /** The I bit: immediate delivery. Always false for PDUs that have no I bit (target PDUs, Data-Out, SNACK). */
    default boolean immediate() {
        return false;
    }

    int initiatorTaskTag();

    /** The data segment, without padding; zero-length when absent. */
    MemorySegment data();

    /** DataSegmentLength: the length of {@link #data()} in bytes, without padding. */
    default int dataSegmentLength() {
        return Math.toIntExact(data().byteSize());
    }

    /**
     * This PDU with another data segment. PDUs whose opcode carries no data (see {@link
     * Opcode#carriesData()}) accept only a zero-length segment.
     */
    Pdu withData(MemorySegment data);
}
