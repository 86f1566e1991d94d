package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Asynchronous Message (RFC 7143 §11.9). The meaning of the three parameters depends on the event;
 * the data segment carries SenseLength + sense data (and iSCSI event data).
 */
public record AsyncMessage(long lun, int statSN, int expCmdSN, int maxCmdSN, Event event, int vendorCode,
        int parameter1, int parameter2, int parameter3, MemorySegment data) implements FullFeatureTargetPdu {

    /** The AsyncEvent codes of RFC 7143 §11.9.1. */
    public enum Event implements CodedValue {
        SCSI_ASYNC_EVENT(0), LOGOUT_REQUESTED(1), CONNECTION_DROPPED(2), SESSION_DROPPED(3),
        NEGOTIATION_REQUESTED(4), TASK_TERMINATION(5), VENDOR_SPECIFIC(255);

        private final int code;

        Event(int code) {
            this.code = code;
        }

        @Override
        public int code() {
            return code;
        }
    }

    public AsyncMessage {
        Objects.requireNonNull(event, "event");
        PduChecks.unsigned8("AsyncVCode", vendorCode);
        PduChecks.unsigned16("Parameter1", parameter1);
        PduChecks.unsigned16("Parameter2", parameter2);
        PduChecks.unsigned16("Parameter3", parameter3);
        data = PduChecks.dataSegment(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.ASYNC_MESSAGE;
    }

    /** Always {@link Pdu#RESERVED_TAG}: an async message answers no task. */
    @Override
    public int initiatorTaskTag() {
        return RESERVED_TAG;
    }

    @Override
    public AsyncMessage withData(MemorySegment data) {
        return new AsyncMessage(lun, statSN, expCmdSN, maxCmdSN, event, vendorCode, parameter1, parameter2,
                parameter3, data);
    }
}
