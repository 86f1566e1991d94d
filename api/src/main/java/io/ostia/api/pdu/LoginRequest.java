package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Login Request (RFC 7143 §11.12). Always immediate. The ISID is the 48-bit value of bytes 8-13,
 * the TSIH 16 bits (0 for a new session). {@code nextStage} is meaningful only with {@code transit}.
 */
public record LoginRequest(boolean transit, boolean continueFlag, LoginStage currentStage, LoginStage nextStage,
        int versionMax, int versionMin, long isid, int tsih, int initiatorTaskTag, int connectionId, int cmdSN,
        int expStatSN, MemorySegment data) implements Pdu {

    public LoginRequest {
        Objects.requireNonNull(currentStage, "currentStage");
        Objects.requireNonNull(nextStage, "nextStage");
        PduChecks.unsigned8("versionMax", versionMax);
        PduChecks.unsigned8("versionMin", versionMin);
        PduChecks.isid(isid);
        PduChecks.unsigned16("TSIH", tsih);
        PduChecks.unsigned16("CID", connectionId);
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGIN_REQUEST;
    }

    @Override
    public boolean immediate() {
        return true;
    }

    @Override
    public LoginRequest withData(MemorySegment data) {
        return new LoginRequest(transit, continueFlag, currentStage, nextStage, versionMax, versionMin, isid, tsih,
                initiatorTaskTag, connectionId, cmdSN, expStatSN, data);
    }
}
