package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;

/** One PDU of every opcode with every field set to a distinct, non-default value. */
final class SamplePdus {
    private SamplePdus() {
    }

    static MemorySegment bytes(String text) {
        return MemorySegment.ofArray(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] cdb(int length) {
        byte[] cdb = new byte[length];
        for (int i = 0; i < length; i++) {
            cdb[i] = (byte) (0x28 + i);
        }
        return cdb;
    }

    static List<Pdu> initiatorPdus() {
        return List.of(
                new NopOut(true, 0x0001_0000_0000_0000L, 0x11, 0xffffffff, 7, 9, bytes("ping!")),
                new ScsiCommand(false, true, true, false, ScsiCommand.TaskAttribute.ORDERED, 0x0002_0000_0000_0000L,
                        0x12, 4096, 0x8000_0001, 0xfffffffe, cdb(16), OptionalInt.empty(), Pdu.NO_DATA),
                new ScsiCommand(false, false, true, true, ScsiCommand.TaskAttribute.SIMPLE, 3, 0x13, 512, 1, 2,
                        cdb(32), OptionalInt.of(8192), bytes("immediate data")),
                new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK, 5, 0x14, 0x12, 10, 11, 8,
                        3),
                new LoginRequest(true, false, LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                        0, 0, 0x0002_3d00_0001L, 0, 0x15, 1, 0x10, 0, bytes("InitiatorName=iqn.x\0AuthMethod=None\0")),
                new TextRequest(true, false, true, 0, 0x16, 0xffffffff, 12, 13, bytes("SendTargets=All\0")),
                new DataOut(true, 7, 0x17, 0x1234, 14, 2, 8192, bytes("write data ")),
                new LogoutRequest(true, LogoutRequest.Reason.CLOSE_CONNECTION, 0x18, 3, 15, 16),
                new SnackRequest(SnackRequest.Type.STATUS, 9, 0x19, 0xffffffff, 17, 4, 2));
    }

    static List<Pdu> targetPdus() {
        return List.of(
                new NopIn(0, 0xffffffff, 0x21, 30, 31, 62, Pdu.NO_DATA),
                new ScsiResponse(true, false, false, true, 0, 2, 0x22, 1, 32, 33, 64, 5, 100, 200,
                        bytes("\0\u0012sense data here..")),
                new TaskManagementResponse(TaskManagementResponse.Response.TASK_DOES_NOT_EXIST, 0x23, 34, 35, 66),
                new LoginResponse(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE,
                        0, 0, 0x0002_3d00_0001L, 0x1234, 0x24, 0, 36, 67, 0, 0, bytes("MaxBurstLength=262144\0")),
                new LoginResponse(false, false, LoginStage.SECURITY_NEGOTIATION, LoginStage.SECURITY_NEGOTIATION, 0,
                        0, 1, 0, 0x25, 1, 2, 3, 2, 1, Pdu.NO_DATA),
                new TextResponse(false, true, 0, 0x26, 0x99, 37, 38, 69, bytes("TargetName=iqn.y\0")),
                new DataIn(true, false, false, true, true, 0, 0x0001_0000_0000_0000L, 0x27, 0xffffffff, 39, 40, 71,
                        3, 12288, 512, bytes("read data")),
                new DataIn(false, true, false, false, false, 0, 1, 0x28, 0x55, 0, 41, 72, 4, 0, 0, bytes("abcd")),
                new LogoutResponse(LogoutResponse.Response.CID_NOT_FOUND, 0x29, 42, 43, 74, 2, 20),
                new ReadyToTransfer(1, 0x2a, 0x77, 44, 45, 76, 1, 65536, 262144),
                new AsyncMessage(1, 46, 47, 78, AsyncMessage.Event.LOGOUT_REQUESTED, 0, 0, 0, 5, bytes("\0\0")),
                new Reject(Reject.Reason.PROTOCOL_ERROR, 48, 49, 80, 0,
                        MemorySegment.ofArray(new byte[PduEncoder.BHS_LENGTH])));
    }
}
