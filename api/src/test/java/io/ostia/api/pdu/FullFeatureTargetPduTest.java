package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FullFeatureTargetPduTest {

    @Test
    void everyTargetPduOfFullFeaturePhaseIsOne() {
        for (Pdu pdu : SamplePdus.targetPdus()) {
            if (pdu instanceof LoginResponse) {
                continue;
            }
            assertInstanceOf(FullFeatureTargetPdu.class, pdu, pdu.opcode().toString());
        }
        for (Pdu pdu : SamplePdus.initiatorPdus()) {
            assertFalse(pdu instanceof FullFeatureTargetPdu, pdu.opcode() + " is an initiator PDU");
        }
    }

    @Test
    void statSNNumbersAStatusOnlyWhereThePduDeliversOne() {
        List<Pdu> samples = SamplePdus.targetPdus();
        for (Pdu pdu : samples) {
            boolean expected = switch (pdu) {
                case DataIn d -> d.statusPresent();
                case NopIn _, ReadyToTransfer _, LoginResponse _ -> false;
                default -> true;
            };
            assertEquals(expected, pdu instanceof FullFeatureTargetPdu t && t.statusPresent(), pdu.opcode().toString());
        }
        assertTrue(samples.stream().anyMatch(p -> p instanceof DataIn d && d.statusPresent()));
        assertTrue(samples.stream().anyMatch(p -> p instanceof DataIn d && !d.statusPresent()));
    }
}
