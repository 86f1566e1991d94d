package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.Optional;

/**
 * Login Response (RFC 7143 §11.13). {@code statusClass} / {@code statusDetail} are kept raw
 * because targets may send details RFC 7143 does not name; {@link #status()} names the known ones.
 */
public record LoginResponse(boolean transit, boolean continueFlag, LoginStage currentStage, LoginStage nextStage,
        int versionMax, int versionActive, long isid, int tsih, int initiatorTaskTag, int statSN, int expCmdSN,
        int maxCmdSN, int statusClass, int statusDetail, MemorySegment data) implements Pdu {

    public LoginResponse {
        Objects.requireNonNull(currentStage, "currentStage");
        Objects.requireNonNull(nextStage, "nextStage");
        PduChecks.unsigned8("versionMax", versionMax);
        PduChecks.unsigned8("versionActive", versionActive);
        PduChecks.isid(isid);
        PduChecks.unsigned16("TSIH", tsih);
        PduChecks.unsigned8("Status-Class", statusClass);
        PduChecks.unsigned8("Status-Detail", statusDetail);
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGIN_RESPONSE;
    }

    /**
     * Whether this is the final Login Response (RFC 7143 §13.1): a success that transits to
     * full-feature phase. Digests and the negotiated limits start with the next PDU.
     */
    public boolean isFinal() {
        return transit && nextStage == LoginStage.FULL_FEATURE_PHASE && statusClass == 0;
    }

    /** The named status, empty for a class/detail pair RFC 7143 does not name. */
    public Optional<LoginStatus> status() {
        return LoginStatus.of(statusClass, statusDetail);
    }

    @Override
    public LoginResponse withData(MemorySegment data) {
        return new LoginResponse(transit, continueFlag, currentStage, nextStage, versionMax, versionActive, isid, tsih,
                initiatorTaskTag, statSN, expCmdSN, maxCmdSN, statusClass, statusDetail, data);
    }
}
