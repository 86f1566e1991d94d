package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.scsi.Cdb;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The checks every transport makes on what the session layer gives or the target answers. */
class TransportHelpersTest {

    private static LoginResponse response(boolean transit, LoginStage next, int statusClass) {
        return new LoginResponse(transit, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, next, 0, 0, 0x00023d000001L,
                1, 0, 0, 1, 2, statusClass, 0, Pdu.NO_DATA);
    }

    @Test
    void onlyASuccessfulTransitToFullFeaturePhaseIsTheFinalLoginResponse() {
        assertTrue(response(true, LoginStage.FULL_FEATURE_PHASE, 0).isFinal());
        assertFalse(response(false, LoginStage.FULL_FEATURE_PHASE, 0).isFinal(), "no transit");
        assertFalse(response(true, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, 0).isFinal(), "another stage");
        assertFalse(response(true, LoginStage.FULL_FEATURE_PHASE, 2).isFinal(), "an initiator error");
    }

    @Test
    void theLeadingBytesOfAPlacementAreTheSegmentItselfWhenItIsExactlyThatLong() {
        MemorySegment buffer = MemorySegment.ofArray(new byte[8192]);
        assertTrue(DataPlacement.leading(buffer, 8192) == buffer, "no slice when the lengths agree");
        MemorySegment start = DataPlacement.leading(buffer, 4096);
        assertEquals(4096, start.byteSize());
        assertEquals(buffer.address(), start.address());
        assertThrows(IndexOutOfBoundsException.class, () -> DataPlacement.leading(buffer, 8193));
    }

    @Test
    void aTaskBufferMustMatchExpectedDataTransferLength() {
        ScsiCommand read = ScsiCommand.of(1, 0x2a, Cdb.read10(0, 8), true, false, 4096);
        read.checkTaskBuffer(MemorySegment.ofArray(new byte[4096]));
        IllegalArgumentException shorter = assertThrows(IllegalArgumentException.class,
                () -> read.checkTaskBuffer(MemorySegment.ofArray(new byte[512])));
        assertEquals("task 0x0000002a has a buffer of 512 bytes, but its ExpectedDataTransferLength is 4096",
                shorter.getMessage());
    }

    @Test
    void aTaskMustCarryNoDataSegment() {
        ScsiCommand write = ScsiCommand.of(1, 7, Cdb.write10(0, 1), false, true, 512)
                .withData(MemorySegment.ofArray(new byte[512]));
        IllegalArgumentException carries = assertThrows(IllegalArgumentException.class,
                () -> write.checkTaskBuffer(MemorySegment.ofArray(new byte[512])));
        assertTrue(carries.getMessage().startsWith("task 0x00000007 carries a data segment"), carries.getMessage());
    }
}
