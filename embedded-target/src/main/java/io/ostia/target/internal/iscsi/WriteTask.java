package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.ScsiCommand;
import io.ostia.target.internal.scsi.LogicalUnit;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** A write command collecting its data: immediate, unsolicited Data-Out, then R2T bursts. */
final class WriteTask {

    /** One sequence of Data-Out PDUs: the unsolicited one or one R2T's. */
    static final class Burst {
        final int targetTransferTag;
        final long end;
        long nextOffset;
        int nextDataSN;

        Burst(int targetTransferTag, long offset, long length) {
            this.targetTransferTag = targetTransferTag;
            this.nextOffset = offset;
            this.end = offset + length;
        }
    }

    final ScsiCommand command;
    final LogicalUnit unit;
    final long expectedLength;
    final MemorySegment buffer;
    long received;
    /** Where the next R2T starts. */
    long nextR2TOffset;
    int nextR2TSN;
    /** The unsolicited Data-Out sequence still expected, or null. */
    Burst unsolicited;
    final Map<Integer, Burst> outstanding = new HashMap<>();
    /** When the command or its latest Data-Out arrived (System.nanoTime). */
    long lastProgressNanos = System.nanoTime();

    WriteTask(ScsiCommand command, LogicalUnit unit, long expectedLength, MemorySegment buffer) {
        this.command = command;
        this.unit = unit;
        this.expectedLength = expectedLength;
        this.buffer = buffer;
    }

    boolean complete() {
        return received == expectedLength;
    }
}
