package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;

/**
 * Where a Data-In's data segment goes. {@link PduDecoder} asks before reading the data and builds
 * the {@link DataIn} once, with the chosen segment as its data, so the read data lands straight in
 * the read buffer at its BufferOffset and the hot read path builds one record per PDU. Every
 * other PDU's data goes where the {@link DataPlacement} says.
 */
@FunctionalInterface
public interface DataInPlacement {

    /** The placement that always lets the decoder allocate. */
    DataInPlacement ALLOCATE = (initiatorTaskTag, dataSN, bufferOffset, dataSegmentLength) -> null;

    /**
     * The segment to receive the data segment; the header fields given are all a placement needs
     * to find and check its task.
     *
     * @param initiatorTaskTag the task the data belongs to
     * @param dataSN the Data-In's DataSN
     * @param bufferOffset the BufferOffset (unsigned)
     * @param dataSegmentLength the DataSegmentLength, already checked against the limit, above 0
     * @return a writable segment of exactly {@code dataSegmentLength} bytes, or {@code null} to let
     *     the decoder allocate a heap segment of that size
     */
    MemorySegment destination(int initiatorTaskTag, int dataSN, int bufferOffset, int dataSegmentLength);
}
