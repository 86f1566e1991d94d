package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.spi.StopMode;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The write data a target sees, PDU by PDU, checked field by field against RFC 7143 §11.7
 * with the defaults (target MaxRecvDataSegmentLength 8192, FirstBurstLength 65536): immediate
 * data, unsolicited Data-Out, and Data-Out sequences answering R2Ts.
 */
class DataOutSequenceTest extends FakeTargetTestBase {

    private static final int LENGTH = 100_000;

    @Override
    TcpTransport newTransport() {
        return new TcpTransport(TcpTransportOptions.defaults().withReleaseTimeout(Duration.ofSeconds(2)), () -> { });
    }

    private record Write(FakeSession session, MemorySegment buffer, ScsiCommand command) {
    }

    private Write write(Arena arena, boolean immediateData, boolean initialR2T) throws Exception {
        FakeSession session = FakeSession.bound(transport, target);
        session.login(target);
        session.start(TestParameters.defaultsWith(false, false, immediateData, initialR2T));
        MemorySegment buffer = TestInitiator.pattern(arena, LENGTH, LENGTH);
        session.connection.sendTask(TcpLifecycleTest.writeTask(5, buffer));
        return new Write(session, buffer, (ScsiCommand) target.read());
    }

    /** Reads Data-Out PDUs up to and including the next one with the F bit. */
    private List<DataOut> sequence() throws Exception {
        List<DataOut> sequence = new ArrayList<>();
        DataOut last;
        do {
            last = (DataOut) target.read();
            sequence.add(last);
        } while (!last.finalFlag());
        return sequence;
    }

    /** Checks one sequence: DataSN from 0, contiguous offsets, at most 8192 bytes each, the buffer's bytes. */
    private static void assertSequence(List<DataOut> sequence, int targetTransferTag, long offset, long length,
            MemorySegment buffer) {
        long at = offset;
        for (int i = 0; i < sequence.size(); i++) {
            DataOut dataOut = sequence.get(i);
            assertEquals(i, dataOut.dataSN(), "DataSN counts from 0 in each sequence");
            assertEquals(targetTransferTag, dataOut.targetTransferTag());
            assertEquals(5, dataOut.initiatorTaskTag());
            assertEquals(TestInitiator.LUN1, dataOut.lun());
            assertEquals(at, Integer.toUnsignedLong(dataOut.bufferOffset()), "BufferOffset");
            assertTrue(dataOut.dataSegmentLength() <= 8192, "within the target's MaxRecvDataSegmentLength");
            assertEquals(i == sequence.size() - 1, dataOut.finalFlag(), "F only on the last of the sequence");
            assertEquals(-1, buffer.asSlice(at, dataOut.dataSegmentLength()).mismatch(dataOut.data()),
                    "the Data-Out carries the buffer's bytes");
            at += dataOut.dataSegmentLength();
        }
        assertEquals(offset + length, at, "the sequence covers exactly what was asked");
    }

    @Test
    void immediateDataThenTwoR2TSequences() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Write write = write(arena, true, true);
            assertTrue(write.command().finalFlag(), "InitialR2T=Yes: no unsolicited Data-Out follows");
            assertEquals(8192, write.command().dataSegmentLength(), "immediate data up to min(FirstBurstLength, 8192)");
            assertEquals(-1, write.buffer().asSlice(0, 8192).mismatch(write.command().data()));

            target.send(new ReadyToTransfer(TestInitiator.LUN1, 5, 0x10, 0, 2, 30, 0, 8192, 20_000));
            List<DataOut> first = sequence();
            assertSequence(first, 0x10, 8192, 20_000, write.buffer());
            assertEquals(3, first.size());
            assertEquals(write.session().owner.expectedStatSN(), first.getFirst().expStatSN(),
                    "ExpStatSN comes from the owner");

            target.send(new ReadyToTransfer(TestInitiator.LUN1, 5, 0x11, 0, 2, 31, 1, 28_192, LENGTH - 28_192));
            assertSequence(sequence(), 0x11, 28_192, LENGTH - 28_192, write.buffer());
            target.send(ScsiResponse.good(5, 1, 2, 32, 0));
            assertEquals(5, write.session().owner.next(ScsiResponse.class, WAIT).initiatorTaskTag());
            assertEquals(2, write.session().owner.windowUpdates.get(), "each R2T moved the window");
            write.session().end(StopMode.TERMINATE);
        }
    }

    @Test
    void unsolicitedDataOutUpToFirstBurstLengthWithoutImmediateData() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Write write = write(arena, false, false);
            assertFalse(write.command().finalFlag(), "unsolicited Data-Out follows the command");
            assertEquals(0, write.command().dataSegmentLength(), "ImmediateData=No");
            List<DataOut> unsolicited = sequence();
            assertSequence(unsolicited, 0xffffffff, 0, 65_536, write.buffer());
            assertEquals(8, unsolicited.size());

            target.send(new ReadyToTransfer(TestInitiator.LUN1, 5, 0x20, 0, 2, 30, 0, 65_536, LENGTH - 65_536));
            assertSequence(sequence(), 0x20, 65_536, LENGTH - 65_536, write.buffer());
            target.send(ScsiResponse.good(5, 1, 2, 32, 0));
            write.session().owner.next(ScsiResponse.class, WAIT);
            write.session().end(StopMode.TERMINATE);
        }
    }

    @Test
    void immediateAndUnsolicitedDataTogetherStopAtFirstBurstLength() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Write write = write(arena, true, false);
            assertFalse(write.command().finalFlag());
            assertEquals(8192, write.command().dataSegmentLength());
            assertSequence(sequence(), 0xffffffff, 8192, 65_536 - 8192, write.buffer());
            target.send(ScsiResponse.good(5, 1, 2, 32, 0));
            write.session().owner.next(ScsiResponse.class, WAIT);
            write.session().end(StopMode.TERMINATE);
        }
    }
}
