package io.ostia.target;

import io.ostia.api.ChapCredentials;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.pdu.DataOut;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.TaskManagementRequest;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import io.ostia.api.text.TextCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The target's iSCSI behaviour, driven PDU by PDU over loopback. */
class IscsiTargetProtocolTest {

    static final String DISK = "iqn.2026-01.io.ostia:disk";
    static final String SECURE = "iqn.2026-01.io.ostia:secure";
    static final ChapCredentials CHAP = ChapCredentials.mutual("alice", "alice-secret-12", "disk", "target-secret-34");

    private IscsiTarget target;
    private int port;

    @BeforeEach
    void start() throws IOException {
        target = IscsiTarget.builder()
                .portal("127.0.0.1", 0)
                .nopIn(Duration.ofMillis(300), Duration.ofSeconds(2))
                .logoutGrace(Duration.ofSeconds(2))
                .target(DISK, t -> t.ramLun(16 << 20).alias("test disk"))
                .target(SECURE, t -> t.ramLun(1 << 20).chap(CHAP))
                .build()
                .start();
        port = target.port();
    }

    @AfterEach
    void stop() {
        target.close();
    }

    private static Map<String, String> ops(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private TestInitiator loggedIn(long isid, Map<String, String> operational) throws IOException {
        TestInitiator i = new TestInitiator(port, isid);
        LoginResponse r = i.login(DISK, operational);
        assertEquals(0, r.statusClass(), "login status " + r.statusClass() + "/" + r.statusDetail());
        return i;
    }

    @Test
    void loginNegotiatesAndDataInCarriesStatus() throws IOException {
        try (TestInitiator i = loggedIn(0x400001, ops("HeaderDigest", "CRC32C,None", "DataDigest", "CRC32C",
                "MaxRecvDataSegmentLength", "4096", "MaxBurstLength", "65536", "FirstBurstLength", "8192",
                "InitialR2T", "Yes", "ImmediateData", "No", "MaxOutstandingR2T", "2", "ErrorRecoveryLevel", "2",
                "MaxConnections", "4", "X-com.example.Thing", "1"))) {
            assertEquals("CRC32C", i.negotiated.get("HeaderDigest"));
            assertEquals("CRC32C", i.negotiated.get("DataDigest"));
            assertEquals("0", i.negotiated.get("ErrorRecoveryLevel"));
            assertEquals("1", i.negotiated.get("MaxConnections"));
            assertEquals("NotUnderstood", i.negotiated.get("X-com.example.Thing"));
            assertTrue(i.negotiated.containsKey("MaxRecvDataSegmentLength"), "the target declares its own limit");
            // RFC 7143 §6.2.2: InitialR2T=Yes (OR) and ImmediateData=No (AND) decide their result; no answer.
            assertFalse(i.negotiated.containsKey("InitialR2T"), i.negotiated::toString);
            assertFalse(i.negotiated.containsKey("ImmediateData"), i.negotiated::toString);
            // A 64 KiB write needs R2Ts (InitialR2T=Yes, no immediate data), at most two outstanding.
            byte[] data = new byte[65536];
            Arrays.fill(data, (byte) 0x3c);
            ScsiCommand write = i.command(Cdb.write10(8, 128), false, true, data.length);
            i.send(write);
            int outstanding = 0;
            int maxOutstanding = 0;
            int received = 0;
            List<ReadyToTransfer> r2ts = new java.util.ArrayList<>();
            while (received < data.length) {
                Pdu pdu = i.receive();
                ReadyToTransfer r2t = assertInstanceOf(ReadyToTransfer.class, pdu);
                r2ts.add(r2t);
                outstanding++;
                maxOutstanding = Math.max(maxOutstanding, outstanding);
                assertTrue(r2t.desiredDataTransferLength() <= 65536, "R2T within MaxBurstLength");
                // answer in PDUs of at most the target's declared MaxRecvDataSegmentLength
                int segment = 4096;
                for (int off = 0, sn = 0; off < r2t.desiredDataTransferLength(); off += segment, sn++) {
                    int n = Math.min(segment, r2t.desiredDataTransferLength() - off);
                    int at = r2t.bufferOffset() + off;
                    i.send(new DataOut(off + n == r2t.desiredDataTransferLength(), 0, write.initiatorTaskTag(),
                            r2t.targetTransferTag(), i.expStatSN, sn, at,
                            MemorySegment.ofArray(Arrays.copyOfRange(data, at, at + n))));
                }
                received += r2t.desiredDataTransferLength();
                outstanding--;
            }
            assertTrue(maxOutstanding <= 2);
            assertEquals(0, i.collect(write.initiatorTaskTag()).status());
            TestInitiator.Result read = i.complete(i.command(Cdb.read10(8, 128), true, false, 65536));
            assertEquals(0, read.status());
            assertArrayEquals(data, read.data());
            assertTrue(read.lastDataIn() != null && read.lastDataIn().statusPresent(), "status in the last Data-In");
        }
    }

    @Test
    void readBeyondTheEndGetsCheckConditionWithSense() throws IOException {
        try (TestInitiator i = loggedIn(0x400002, ops())) {
            TestInitiator.Result r = i.complete(i.command(Cdb.read16(32768, 1), true, false, 512));
            assertEquals(2, r.status());
            SenseData sense = SenseData.decode(r.data(), 0, r.data().length);
            assertEquals(SenseKey.ILLEGAL_REQUEST, sense.key());
            assertEquals(0x21, sense.additional().asc());
        }
    }

    @Test
    void cmdSnOutsideTheWindowIsIgnored() throws IOException {
        try (TestInitiator i = loggedIn(0x400003, ops())) {
            int exp = i.cmdSN;
            i.cmdSN = i.maxCmdSN + 1;
            ScsiCommand tooHigh = i.command(Cdb.testUnitReady(), false, false, 0);
            i.send(tooHigh);
            i.socket.setSoTimeout(500);
            assertThrows(java.net.SocketTimeoutException.class, i::receive, "no answer outside the window");
            i.socket.setSoTimeout(5000);
            i.cmdSN = exp;
            assertEquals(0, i.complete(i.command(Cdb.testUnitReady(), false, false, 0)).status());
        }
    }

    @Test
    void badInputEndsOnlyTheOffendingConnection() throws IOException {
        try (TestInitiator good = loggedIn(0x400004, ops())) {
            // Command before login: connection closed.
            try (TestInitiator early = new TestInitiator(port, 0x400005)) {
                early.send(early.command(Cdb.testUnitReady(), false, false, 0));
                assertTrue(early.closedByTarget());
            }
            // Reserved opcode 0x3f in a logged-in session: malformed, connection closed.
            try (TestInitiator bad = loggedIn(0x400006, ops())) {
                byte[] garbage = new byte[48];
                garbage[0] = 0x3f;
                bad.sendRaw(garbage);
                assertTrue(bad.closedByTarget());
            }
            // A data segment above the negotiated MaxRecvDataSegmentLength: closed.
            try (TestInitiator big = loggedIn(0x400007, ops())) {
                int limit = Integer.parseInt(big.negotiated.get("MaxRecvDataSegmentLength"));
                try {
                    big.send(new NopOut(true, 0, 0x77, Pdu.RESERVED_TAG, big.cmdSN, big.expStatSN,
                            MemorySegment.ofArray(new byte[limit + 4])));
                } catch (java.net.SocketException e) {
                    // The target may close after the header, before the oversize data is all written.
                    assertTrue(e.getMessage().contains("reset") || e.getMessage().contains("Broken pipe"), e.getMessage());
                }
                assertTrue(big.closedByTarget());
            }
            // SNACK at ErrorRecoveryLevel 0: Reject, connection stays.
            try (TestInitiator snack = loggedIn(0x400008, ops())) {
                snack.send(new io.ostia.api.pdu.SnackRequest(io.ostia.api.pdu.SnackRequest.Type.STATUS, 0, 0x1234,
                        Pdu.RESERVED_TAG, snack.expStatSN, 0, 0));
                Reject reject = assertInstanceOf(Reject.class, snack.receive());
                assertEquals(Reject.Reason.SNACK_REJECT, reject.reason());
                assertEquals(0, snack.complete(snack.command(Cdb.testUnitReady(), false, false, 0)).status());
            }
            assertEquals(0, good.complete(good.command(Cdb.testUnitReady(), false, false, 0)).status(),
                    "the well-behaved session kept working");
        }
    }

    @Test
    void unknownTargetAndMissingNameAreRefused() throws IOException {
        try (TestInitiator i = new TestInitiator(port, 0x400009)) {
            LoginResponse r = i.login("iqn.2026-01.io.ostia:nope", ops());
            assertEquals(2, r.statusClass());
            assertEquals(3, r.statusDetail(), "target not found");
            assertTrue(i.closedByTarget());
        }
        try (TestInitiator i = new TestInitiator(port, 0x40000a)) {
            LoginResponse r = i.loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                    true, ops("TargetName", DISK, "AuthMethod", "None"));
            assertEquals(2, r.statusClass());
            assertEquals(7, r.statusDetail(), "missing parameter");
        }
    }

    private LoginResponse chapLogin(TestInitiator i, String secret, boolean mutual, byte[][] targetProof)
            throws IOException {
        LoginResponse r = i.loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.SECURITY_NEGOTIATION, false,
                ops("InitiatorName", TestInitiator.NAME, "SessionType", "Normal", "TargetName", SECURE,
                        "AuthMethod", "CHAP,None"));
        assertEquals("CHAP", TestInitiator.keys(r).get("AuthMethod"));
        r = i.loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.SECURITY_NEGOTIATION, false,
                ops("CHAP_A", "7,5"));
        Map<String, String> challenge = TestInitiator.keys(r);
        assertEquals("7", challenge.get("CHAP_A"), "SHA-256 preferred as offered");
        int id = Integer.parseInt(challenge.get("CHAP_I"));
        byte[] c = TextCodec.decodeBinary(challenge.get("CHAP_C"));
        byte[] response = TestInitiator.chapResponse("SHA-256", id, secret, c);
        Map<String, String> answer = ops("CHAP_N", "alice", "CHAP_R", TextCodec.encodeHex(response));
        byte[] myChallenge = new byte[32];
        Arrays.fill(myChallenge, (byte) 9);
        if (mutual) {
            answer.put("CHAP_I", "77");
            answer.put("CHAP_C", TextCodec.encodeHex(myChallenge));
        }
        r = i.loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, true, answer);
        if (mutual && r.statusClass() == 0) {
            Map<String, String> proof = TestInitiator.keys(r);
            assertEquals("disk", proof.get("CHAP_N"));
            targetProof[0] = TextCodec.decodeBinary(proof.get("CHAP_R"));
            targetProof[1] = TestInitiator.chapResponse("SHA-256", 77, "target-secret-34", myChallenge);
        }
        return r;
    }

    @Test
    void chapOneWayMutualAndWrongSecret() throws IOException {
        byte[][] proof = new byte[2][];
        try (TestInitiator i = new TestInitiator(port, 0x40000b)) {
            LoginResponse r = chapLogin(i, "wrong-secret-99", false, proof);
            assertEquals(2, r.statusClass());
            assertEquals(1, r.statusDetail(), "authentication failure");
            assertTrue(i.closedByTarget());
        }
        try (TestInitiator i = new TestInitiator(port, 0x40000c)) {
            assertEquals(0, chapLogin(i, "alice-secret-12", false, proof).statusClass());
            assertEquals(0, i.operational(ops()).statusClass());
        }
        try (TestInitiator i = new TestInitiator(port, 0x40000d)) {
            assertEquals(0, chapLogin(i, "alice-secret-12", true, proof).statusClass());
            assertArrayEquals(proof[1], proof[0], "the target proved its own secret");
            assertEquals(0, i.operational(ops()).statusClass());
        }
        try (TestInitiator i = new TestInitiator(port, 0x40000e)) {
            LoginResponse r = i.login(SECURE, ops());
            assertEquals(2, r.statusClass(), "AuthMethod=None is refused where CHAP is required");
            assertEquals(1, r.statusDetail());
        }
    }

    @Test
    void sendTargetsListsEveryTarget() throws IOException {
        try (TestInitiator i = new TestInitiator(port, 0x40000f)) {
            LoginResponse r = i.loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE, true,
                    ops("InitiatorName", TestInitiator.NAME, "SessionType", "Discovery", "AuthMethod", "None"));
            assertEquals(0, r.statusClass());
            i.send(new TextRequest(true, true, false, 0, 0x55, Pdu.RESERVED_TAG, i.cmdSN, i.expStatSN,
                    TestInitiator.text(ops("SendTargets", "All"))));
            TextResponse text = assertInstanceOf(TextResponse.class, i.receive());
            String body = new String(text.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(body.contains("TargetName=" + DISK + "\0TargetAddress=127.0.0.1:" + port + ",1\0"), body);
            assertTrue(body.contains("TargetName=" + SECURE), body);
            // SCSI commands have no place in a discovery session.
            i.send(i.command(Cdb.testUnitReady(), false, false, 0));
            assertInstanceOf(Reject.class, i.receive());
        }
    }

    @Test
    void fullFeatureTextRedeclaresTheReceiveLimitAndRejectsLoginOnlyKeys() throws IOException {
        try (TestInitiator i = loggedIn(0x400018, ops("MaxRecvDataSegmentLength", "65536"))) {
            i.send(new TextRequest(true, true, false, 0, 0x56, Pdu.RESERVED_TAG, i.cmdSN, i.expStatSN,
                    TestInitiator.text(ops("MaxRecvDataSegmentLength", "4096", "HeaderDigest", "CRC32C"))));
            TextResponse text = assertInstanceOf(TextResponse.class, i.receive());
            Map<String, String> answers = TestInitiator.keys(text);
            assertEquals("Reject", answers.get("HeaderDigest"), "digests are negotiated at login only");
            assertFalse(answers.containsKey("MaxRecvDataSegmentLength"), "a declaration gets no answer");
            ScsiCommand read = i.command(Cdb.read10(0, 32), true, false, 16384);
            i.send(read);
            int pdus = 0;
            Pdu pdu;
            do {
                pdu = i.receive();
                io.ostia.api.pdu.DataIn in = assertInstanceOf(io.ostia.api.pdu.DataIn.class, pdu);
                assertTrue(in.dataSegmentLength() <= 4096, "Data-In within the new limit");
                pdus++;
            } while (!((io.ostia.api.pdu.DataIn) pdu).statusPresent());
            assertEquals(4, pdus);
        }
    }

    @Test
    void reinstatementByIsidClosesTheOldSession() throws IOException {
        try (TestInitiator first = loggedIn(0x400010, ops()); TestInitiator second = loggedIn(0x400010, ops())) {
            assertTrue(first.closedByTarget(), "same initiator name and ISID: the old session goes");
            assertEquals(0, second.complete(second.command(Cdb.testUnitReady(), false, false, 0)).status());
        }
    }

    @Test
    void idleConnectionsArePingedAndAnswersKeepThemOpen() throws IOException {
        try (TestInitiator i = loggedIn(0x400011, ops())) {
            i.answerPings = false;
            NopIn ping = assertInstanceOf(NopIn.class, i.receive());
            assertEquals(Pdu.RESERVED_TAG, ping.initiatorTaskTag());
            i.send(new NopOut(true, 0, Pdu.RESERVED_TAG, ping.targetTransferTag(), i.cmdSN, i.expStatSN, Pdu.NO_DATA));
            i.answerPings = true;
            // Our own ping is answered with the same data.
            byte[] payload = "ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            i.send(new NopOut(false, 0, 0x99, Pdu.RESERVED_TAG, i.cmdSN++, i.expStatSN, MemorySegment.ofArray(payload)));
            NopIn answer = assertInstanceOf(NopIn.class, i.receive());
            assertEquals(0x99, answer.initiatorTaskTag());
            assertArrayEquals(payload, answer.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            // Stop answering: the target gives up on the connection after the NOP timeout (2 s).
            i.answerPings = false;
            i.socket.setSoTimeout(6000);
            assertTrue(i.closedByTarget(), "an unanswered ping ends the connection");
        }
    }

    @Test
    void abortTaskAndLunReset() throws IOException {
        try (TestInitiator i = loggedIn(0x400012, ops("InitialR2T", "Yes", "ImmediateData", "No"));
             TestInitiator other = loggedIn(0x400013, ops())) {
            ScsiCommand write = i.command(Cdb.write10(0, 8), false, true, 4096);
            i.send(write);
            assertInstanceOf(ReadyToTransfer.class, i.receive());
            i.send(new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK, 0, i.itt++,
                    write.initiatorTaskTag(), i.cmdSN, i.expStatSN, write.cmdSN(), 0));
            TaskManagementResponse aborted = assertInstanceOf(TaskManagementResponse.class, i.receive());
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE, aborted.response());
            i.send(new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK, 0, i.itt++,
                    0xdead, i.cmdSN, i.expStatSN, write.cmdSN(), 0));
            TaskManagementResponse none = assertInstanceOf(TaskManagementResponse.class, i.receive());
            assertEquals(TaskManagementResponse.Response.TASK_DOES_NOT_EXIST, none.response());

            i.send(new TaskManagementRequest(true, TaskManagementRequest.Function.LOGICAL_UNIT_RESET, 0, i.itt++,
                    Pdu.RESERVED_TAG, i.cmdSN, i.expStatSN, 0, 0));
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE,
                    assertInstanceOf(TaskManagementResponse.class, i.receive()).response());
            TestInitiator.Result ua = other.complete(other.command(Cdb.testUnitReady(), false, false, 0));
            assertEquals(2, ua.status());
            assertEquals(SenseKey.UNIT_ATTENTION, SenseData.decode(ua.data(), 0, ua.data().length).key());
            assertEquals(0, other.complete(other.command(Cdb.testUnitReady(), false, false, 0)).status());
            TestInitiator.Result own = i.complete(i.command(Cdb.testUnitReady(), false, false, 0));
            assertEquals(2, own.status(), "SAM: the nexus that asked for the reset gets the unit attention too");
            assertEquals(SenseKey.UNIT_ATTENTION, SenseData.decode(own.data(), 0, own.data().length).key());
            assertEquals(0, i.complete(i.command(Cdb.testUnitReady(), false, false, 0)).status());

            i.send(new TaskManagementRequest(true, TaskManagementRequest.Function.LOGICAL_UNIT_RESET,
                    io.ostia.api.scsi.Luns.encode(5), i.itt++, Pdu.RESERVED_TAG, i.cmdSN, i.expStatSN, 0, 0));
            assertEquals(TaskManagementResponse.Response.LUN_DOES_NOT_EXIST,
                    assertInstanceOf(TaskManagementResponse.class, i.receive()).response());
        }
    }

    @Test
    void warmResetAndAbortTaskSetAbortPendingWritesOfEverySession() throws IOException {
        try (TestInitiator a = loggedIn(0x400016, ops("InitialR2T", "Yes", "ImmediateData", "No"));
             TestInitiator b = loggedIn(0x400017, ops("InitialR2T", "Yes", "ImmediateData", "No"))) {
            ScsiCommand pendingA = a.command(Cdb.write10(0, 8), false, true, 4096);
            a.send(pendingA);
            ReadyToTransfer r2tA = assertInstanceOf(ReadyToTransfer.class, a.receive());
            ScsiCommand pendingB = b.command(Cdb.write10(8, 8), false, true, 4096);
            b.send(pendingB);
            assertInstanceOf(ReadyToTransfer.class, b.receive());

            b.send(new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK_SET, 0, b.itt++,
                    Pdu.RESERVED_TAG, b.cmdSN, b.expStatSN, 0, 0));
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE,
                    assertInstanceOf(TaskManagementResponse.class, b.receive()).response());
            b.send(new TaskManagementRequest(true, TaskManagementRequest.Function.ABORT_TASK, 0, b.itt++,
                    pendingB.initiatorTaskTag(), b.cmdSN, b.expStatSN, pendingB.cmdSN(), 0));
            assertEquals(TaskManagementResponse.Response.TASK_DOES_NOT_EXIST,
                    assertInstanceOf(TaskManagementResponse.class, b.receive()).response(), "ABORT TASK SET took it");

            b.send(new TaskManagementRequest(true, TaskManagementRequest.Function.TARGET_WARM_RESET, 0, b.itt++,
                    Pdu.RESERVED_TAG, b.cmdSN, b.expStatSN, 0, 0));
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE,
                    assertInstanceOf(TaskManagementResponse.class, b.receive()).response());
            // A's write was aborted by B's reset: its data is dropped, no response comes for it,
            // and A's next command reports the reset.
            a.send(new DataOut(true, 0, pendingA.initiatorTaskTag(), r2tA.targetTransferTag(), a.expStatSN, 0, 0,
                    MemorySegment.ofArray(new byte[4096])));
            TestInitiator.Result ua = a.complete(a.command(Cdb.testUnitReady(), false, false, 0));
            assertEquals(2, ua.status());
            assertEquals(SenseKey.UNIT_ATTENTION, SenseData.decode(ua.data(), 0, ua.data().length).key());
        }
    }

    /** RFC 7143 §11.5.1: after its response, a cold reset closes every connection to the target. */
    @Test
    void coldResetAnswersThenEndsEverySession() throws IOException {
        try (TestInitiator a = loggedIn(0x400018, Map.of());
             TestInitiator b = loggedIn(0x400019, Map.of())) {
            assertEquals(0, a.complete(a.command(Cdb.testUnitReady(), false, false, 0)).status());
            b.send(new TaskManagementRequest(true, TaskManagementRequest.Function.TARGET_COLD_RESET, 0, b.itt++,
                    Pdu.RESERVED_TAG, b.cmdSN, b.expStatSN, 0, 0));
            assertEquals(TaskManagementResponse.Response.FUNCTION_COMPLETE,
                    assertInstanceOf(TaskManagementResponse.class, b.receive()).response());
            assertTrue(b.closedByTarget(), "the requester's connection closes after the response");
            assertTrue(a.closedByTarget(), "so does every other session's");
        }
    }

    @Test
    void unsolicitedAndImmediateDataAreAccepted() throws IOException {
        try (TestInitiator i = loggedIn(0x400014, ops("InitialR2T", "No", "ImmediateData", "Yes",
                "FirstBurstLength", "8192", "MaxRecvDataSegmentLength", "262144"))) {
            byte[] data = new byte[16384];
            new java.util.Random(1).nextBytes(data);
            ScsiCommand cmd = new ScsiCommand(false, false, false, true, ScsiCommand.TaskAttribute.SIMPLE, 0, i.itt++,
                    data.length, i.cmdSN++, i.expStatSN, Cdb.write10(100, 32), OptionalInt.empty(),
                    MemorySegment.ofArray(Arrays.copyOf(data, 4096)));
            i.send(cmd);
            i.send(new DataOut(true, 0, cmd.initiatorTaskTag(), Pdu.RESERVED_TAG, i.expStatSN, 0, 4096,
                    MemorySegment.ofArray(Arrays.copyOfRange(data, 4096, 8192))));
            ReadyToTransfer r2t = assertInstanceOf(ReadyToTransfer.class, i.receive());
            assertEquals(8192, r2t.bufferOffset(), "R2T starts after FirstBurstLength");
            assertEquals(8192, r2t.desiredDataTransferLength());
            i.send(new DataOut(true, 0, cmd.initiatorTaskTag(), r2t.targetTransferTag(), i.expStatSN, 0, 8192,
                    MemorySegment.ofArray(Arrays.copyOfRange(data, 8192, 16384))));
            assertEquals(0, i.collect(cmd.initiatorTaskTag()).status());
            assertArrayEquals(data, i.complete(i.command(Cdb.read10(100, 32), true, false, data.length)).data());
        }
    }

    @Test
    void aCommandHeldForACmdSnGapKeepsItsImmediateData() throws IOException {
        try (TestInitiator i = loggedIn(0x400019, ops("InitialR2T", "Yes", "ImmediateData", "Yes"))) {
            byte[] first = filled(4096, 0x11);
            byte[] held = filled(4096, 0x22);
            byte[] between = filled(2048, 0x33);
            int gap = i.cmdSN++;
            ScsiCommand heldWrite = withData(i.command(Cdb.write10(200, 8), false, true, held.length), held);
            i.send(heldWrite);
            // Runs at once (immediate delivery) while the held write waits; its data comes by R2T.
            ScsiCommand immediate = new ScsiCommand(true, true, false, true, ScsiCommand.TaskAttribute.SIMPLE, 0,
                    i.itt++, between.length, i.cmdSN, i.expStatSN, Cdb.write10(300, 4), OptionalInt.empty(),
                    Pdu.NO_DATA);
            i.send(immediate);
            ReadyToTransfer r2t = assertInstanceOf(ReadyToTransfer.class, i.receive());
            i.send(new DataOut(true, 0, immediate.initiatorTaskTag(), r2t.targetTransferTag(), i.expStatSN, 0, 0,
                    MemorySegment.ofArray(between)));
            assertEquals(0, i.collect(immediate.initiatorTaskTag()).status());
            int cmdSN = i.cmdSN;
            i.cmdSN = gap;
            ScsiCommand firstWrite = withData(i.command(Cdb.write10(100, 8), false, true, first.length), first);
            i.cmdSN = cmdSN;
            i.send(firstWrite);
            assertEquals(0, i.collect(firstWrite.initiatorTaskTag()).status());
            assertEquals(0, i.collect(heldWrite.initiatorTaskTag()).status());

            assertArrayEquals(first, i.complete(i.command(Cdb.read10(100, 8), true, false, 4096)).data());
            assertArrayEquals(held, i.complete(i.command(Cdb.read10(200, 8), true, false, 4096)).data());
            assertArrayEquals(between, i.complete(i.command(Cdb.read10(300, 4), true, false, 2048)).data());
        }
    }

    @Test
    void aDroppedCommandsImmediateDataDisturbsNoLaterWrite() throws IOException {
        try (TestInitiator i = loggedIn(0x40001a, ops("InitialR2T", "Yes", "ImmediateData", "Yes"))) {
            byte[] written = filled(4096, 0x44);
            ScsiCommand first = withData(i.command(Cdb.write10(400, 8), false, true, written.length), written);
            assertEquals(0, i.complete(first).status());
            // The same CmdSN again: outside the window, dropped without an answer.
            int cmdSN = i.cmdSN;
            i.cmdSN = first.cmdSN();
            i.send(withData(i.command(Cdb.write10(500, 8), false, true, 4096), filled(4096, 0x55)));
            i.cmdSN = cmdSN;
            // A larger write whose data comes by R2T, in one Data-Out.
            byte[] later = filled(8192, 0x66);
            ScsiCommand write = i.command(Cdb.write10(600, 16), false, true, later.length);
            i.send(write);
            ReadyToTransfer r2t = assertInstanceOf(ReadyToTransfer.class, i.receive());
            assertEquals(later.length, r2t.desiredDataTransferLength());
            i.send(new DataOut(true, 0, write.initiatorTaskTag(), r2t.targetTransferTag(), i.expStatSN, 0, 0,
                    MemorySegment.ofArray(later)));
            assertEquals(0, i.collect(write.initiatorTaskTag()).status());

            assertArrayEquals(later, i.complete(i.command(Cdb.read10(600, 16), true, false, later.length)).data());
            assertArrayEquals(new byte[4096], i.complete(i.command(Cdb.read10(500, 8), true, false, 4096)).data(),
                    "the dropped write wrote nothing");
        }
    }

    private static ScsiCommand withData(ScsiCommand command, byte[] data) {
        return (ScsiCommand) command.withData(MemorySegment.ofArray(data));
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void closeAsksInitiatorsToLogOutThenReleasesPortAndThreads() throws Exception {
        TestInitiator i = loggedIn(0x400015, ops());
        Thread closer = Thread.ofPlatform().start(target::close);
        AsyncMessage async = assertInstanceOf(AsyncMessage.class, i.receive());
        assertEquals(AsyncMessage.Event.LOGOUT_REQUESTED, async.event());
        i.send(new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, i.itt++, 0, i.cmdSN, i.expStatSN));
        LogoutResponse logout = assertInstanceOf(LogoutResponse.class, i.receive());
        assertEquals(LogoutResponse.Response.CLOSED_SUCCESSFULLY, logout.response());
        closer.join(Duration.ofSeconds(10));
        assertFalse(closer.isAlive());
        i.close();
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
        assertTrue(Threads.named("ostia-target").isEmpty(), "threads left: " + Threads.named("ostia-target"));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
