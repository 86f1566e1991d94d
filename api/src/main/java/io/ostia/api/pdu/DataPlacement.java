package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * Where a decoded PDU's data segment goes. {@link PduDecoder} calls it once the header has been
 * decoded and checked, before reading the data, so that (for example) a Data-Out lands straight
 * in the target's write buffer at its BufferOffset. A Data-In's data goes where the
 * {@link DataInPlacement} says instead.
 */
@FunctionalInterface
public interface DataPlacement {

    /** The placement that always lets the decoder allocate. */
    DataPlacement ALLOCATE = (header, length) -> null;

    /**
     * The segment to receive the data segment.
     *
     * @param header the decoded header; its {@code data()} is still empty
     * @param dataSegmentLength the DataSegmentLength, already checked against the limit, above 0
     * @return a writable segment of at least {@code dataSegmentLength} bytes (since 0.8; before,
     *     exactly), whose first {@code dataSegmentLength} bytes the decoder fills, so that a pooled
     *     buffer larger than the data is taken without a slice; or {@code null} to let the decoder
     *     allocate a heap segment of that size. A smaller or read-only segment fails the decoder.
     */
    MemorySegment destination(Pdu header, int dataSegmentLength);

    /**
     * The segment to receive the immediate data of a SCSI Command that a decoder holds in a
     * {@link ScsiCommandHolder} ({@link PduDecoder#setScsiCommandHolder}); as {@link
     * #destination(Pdu, int)}. {@code command} is valid for this call only. The default asks
     * {@link #destination(Pdu, int)} with the command's record.
     *
     * @since 0.6
     */
    default MemorySegment commandDestination(CommandHeader command, int dataSegmentLength) {
        return destination(ScsiCommand.of(command), dataSegmentLength);
    }

    /**
     * The first {@code bytes} of a destination that may be longer than its data: the segment
     * itself when it is exactly that long, so the common case makes no slice (no allocation per
     * I/O), otherwise a slice of its start.
     *
     * @throws IndexOutOfBoundsException if {@code bytes} is negative or beyond the segment
     * @since 0.9
     */
    static MemorySegment leading(MemorySegment segment, long bytes) {
        return bytes == segment.byteSize() ? segment : segment.asSlice(0, bytes);
    }
}
