package io.ostia.api.pdu.outside;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.SnackRequest;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
import org.junit.jupiter.api.Test;

/** Code in other packages (the session layer, the target) can switch over Pdu without a default branch. */
class ExhaustiveSwitchTest {

    static String describe(Pdu pdu) {
        return switch (pdu) {
            case NopOut p -> "nop-out";
            case ScsiCommand p -> "command";
            case TaskManagementRequest p -> "tmf";
            case LoginRequest p -> "login";
            case TextRequest p -> "text";
            case DataOut p -> "data-out";
            case LogoutRequest p -> "logout";
            case SnackRequest p -> "snack";
            case NopIn p -> "nop-in";
            case ScsiResponse p -> "response";
            case TaskManagementResponse p -> "tmf-response";
            case LoginResponse p -> "login-response";
            case TextResponse p -> "text-response";
            case DataIn p -> "data-in";
            case LogoutResponse p -> "logout-response";
            case ReadyToTransfer p -> "r2t";
            case AsyncMessage p -> "async";
            case Reject p -> "reject";
        };
    }

    @Test
    void everyRecordIsACase() {
        assertEquals("r2t", describe(new ReadyToTransfer(0, 1, 2, 3, 4, 5, 0, 0, 512)));
    }
}
