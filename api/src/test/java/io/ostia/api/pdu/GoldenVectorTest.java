package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Real libiscsi <-> tgtd traffic: every PDU decodes, re-encodes to the same bytes, and has the expected fields. */
class GoldenVectorTest {

    static Pdu decodeWhole(GoldenVectors.Vector vector) throws PduFormatException {
        ByteBuffer src = ByteBuffer.wrap(vector.bytes());
        Pdu pdu = vector.receiver().decode(src);
        assertNotNull(pdu, "line " + vector.line() + " did not complete a PDU");
        assertFalse(src.hasRemaining(), "line " + vector.line() + " left bytes after the PDU");
        return pdu;
    }

    @TestFactory
    Stream<DynamicTest> everyCapturedPduDecodesAndReencodesToTheSameBytes() {
        return GoldenVectors.SCENARIOS.stream().map(GoldenVectors::load).flatMap(golden -> golden.vectors().stream()
                .map(vector -> DynamicTest.dynamicTest(golden.scenario() + ":" + vector.line(), () -> {
                    Pdu pdu = decodeWhole(vector);
                    assertEquals(vector.opcodeCode(), pdu.opcode().code());
                    ByteBuffer encoded = vector.encoder().encode(pdu);
                    assertArrayEquals(vector.bytes(), encoded.array(), () -> "re-encoding of " + pdu);
                })));
    }

    /**
     * A decoder with a {@link ScsiResponseHolder} holds every captured SCSI Response without sense
     * data, with the fields of the record a plain decoder makes; one with sense data stays a record.
     */
    @Test
    void aResponseDecodedIntoTheHolderAgreesWithItsRecord() throws PduFormatException {
        int held = 0;
        List<Pdu> samples = new java.util.ArrayList<>(SamplePdus.targetPdus());
        samples.add(ScsiResponse.good(0x51, 7, 8, 40, 0));
        samples.add(new ScsiResponse(false, true, true, false, 1, 0, 0x52, 3, 9, 10, 41, 2, 77, 88, Pdu.NO_DATA));
        for (String scenario : GoldenVectors.SCENARIOS) {
            for (GoldenVectors.Vector vector : GoldenVectors.load(scenario).vectors()) {
                if (vector.opcodeCode() == Opcode.SCSI_RESPONSE.code()) {
                    samples.add(decodeWhole(vector));
                }
            }
        }
        for (Pdu sample : samples) {
            if (!(sample instanceof ScsiResponse record)) {
                continue;
            }
            ScsiResponseHolder holder = new ScsiResponseHolder();
            PduDecoder decoder = new PduDecoder(Side.INITIATOR, 8192);
            decoder.setScsiResponseHolder(holder);
            ByteBuffer src = new PduEncoder(false, false).encode(record);
            Pdu returned = decoder.decode(src);
            assertFalse(src.hasRemaining(), record + " left bytes");
            if (record.dataSegmentLength() > 0) {
                ScsiResponse kept = assertInstanceOf(ScsiResponse.class, returned, "a response with sense data stays a record");
                assertEquals(record.withData(Pdu.NO_DATA), kept.withData(Pdu.NO_DATA));
                assertEquals(-1, record.data().mismatch(kept.data()), "its sense data");
                assertEquals(null, decoder.heldOpcode());
                continue;
            }
            assertEquals(null, returned, record + " was held, not returned");
            assertEquals(Opcode.SCSI_RESPONSE, decoder.heldOpcode());
            assertEquals(record, holder.toRecord());
            assertEquals(record.initiatorTaskTag(), holder.initiatorTaskTag());
            assertEquals(record.statSN(), holder.statSN());
            held++;
            // And the other way: a target sets a holder and encodes it, the bytes of the record.
            ScsiResponseHolder set = new ScsiResponseHolder().set(record.bidirectionalReadResidualOverflow(),
                    record.bidirectionalReadResidualUnderflow(), record.residualOverflow(), record.residualUnderflow(),
                    record.response(), record.status(), record.initiatorTaskTag(), record.snackTag(), record.statSN(),
                    record.expCmdSN(), record.maxCmdSN(), record.expDataSN(), record.bidirectionalReadResidualCount(),
                    record.residualCount());
            assertEquals(record, set.toRecord());
            for (boolean headerDigest : new boolean[] {false, true}) {
                PduEncoder encoder = new PduEncoder(headerDigest, false);
                ByteBuffer fromHolder = ByteBuffer.allocateDirect(PduEncoder.MAX_HEADER_LENGTH).position(3);
                int length = encoder.encodeHeader(set, fromHolder);
                assertEquals(3 + length, fromHolder.position());
                assertEquals(encoder.encode(record), fromHolder.flip().position(3), record + " digest " + headerDigest);
            }
            decoder.setScsiResponseHolder(null);
            assertEquals(record, decoder.decode(new PduEncoder(false, false).encode(record)), "records again");
        }
        assertTrue(held >= 3, "held " + held + " responses");
        IllegalArgumentException badStatus = assertThrows(IllegalArgumentException.class,
                () -> new ScsiResponseHolder().set(false, false, false, false, 0, 0x100, 1, 0, 0, 0, 0, 0, 0, 0));
        assertTrue(badStatus.getMessage().contains("Status 256"), badStatus.getMessage());
    }

    /**
     * A target decoder with a {@link ScsiCommandHolder} holds every SCSI Command, with the fields,
     * CDB and immediate data of the record a plain decoder makes, with and without header digest;
     * the holder encodes to the record's header bytes; and the record a holder gives, and a holder
     * copied from it ({@code copyOf}), keep its fields and CDB when the holder takes the next command.
     */
    @Test
    void aCommandDecodedIntoTheHolderAgreesWithItsRecord() throws PduFormatException {
        int held = 0;
        List<Pdu> samples = new java.util.ArrayList<>(SamplePdus.initiatorPdus());
        byte[] longCdb = new byte[32];
        longCdb[0] = 0x7f;
        longCdb[31] = 0x31;
        samples.add(new ScsiCommand(false, true, true, true, ScsiCommand.TaskAttribute.ORDERED, 0x0001_0000_0000_0000L,
                0x61, 4096, 5, 6, longCdb, java.util.OptionalInt.of(512), Pdu.NO_DATA));
        for (String scenario : GoldenVectors.SCENARIOS) {
            for (GoldenVectors.Vector vector : GoldenVectors.load(scenario).vectors()) {
                if (vector.opcodeCode() == Opcode.SCSI_COMMAND.code()) {
                    samples.add(decodeWhole(vector));
                }
            }
        }
        for (Pdu sample : samples) {
            if (!(sample instanceof ScsiCommand record)) {
                continue;
            }
            for (boolean headerDigest : new boolean[] {false, true}) {
                PduEncoder encoder = new PduEncoder(headerDigest, false);
                ScsiCommandHolder holder = new ScsiCommandHolder();
                PduDecoder decoder = new PduDecoder(Side.TARGET, 1 << 20);
                decoder.setHeaderDigest(headerDigest);
                decoder.setScsiCommandHolder(holder);
                ByteBuffer src = encoder.encode(record);
                Pdu returned = decoder.decode(src);
                assertFalse(src.hasRemaining(), record + " left bytes");
                assertEquals(null, returned, record + " was held, not returned");
                assertEquals(Opcode.SCSI_COMMAND, decoder.heldOpcode());
                assertEquals(-1, record.data().mismatch(holder.data()), "the immediate data");
                ScsiCommand fromHolder = holder.toRecord();
                assertEquals(record.withData(Pdu.NO_DATA), fromHolder.withData(Pdu.NO_DATA), "digest " + headerDigest);
                assertEquals(-1, record.data().mismatch(fromHolder.data()), "the record's immediate data");
                assertArrayEquals(record.cdb(), holder.cdb());
                assertEquals(record.expectedBidirectionalReadDataLength(), holder.expectedBidirectionalReadDataLength());
                // The holder encodes (as the CommandHeader view) to the record's bytes.
                ByteBuffer encoded = ByteBuffer.allocateDirect(PduEncoder.MAX_HEADER_LENGTH).position(5);
                int length = encoder.encodeCommandHeader(holder, (int) holder.data().byteSize(), holder.finalFlag(),
                        encoded);
                assertEquals(5 + length, encoded.position());
                ByteBuffer expected = encoder.encode(record);
                expected.limit(length); // the header (and its digest): the data segment follows in a gather-write
                assertEquals(expected, encoded.flip().position(5), record + " digest " + headerDigest);
                // What outlives the call keeps its bytes when the holder takes the next command.
                ScsiCommand viewCopy = ScsiCommand.of(holder);
                ScsiCommandHolder kept = new ScsiCommandHolder();
                kept.copyOf(holder);
                byte[] other = record.cdb().clone();
                other[0] ^= (byte) 0xff;
                decoder.decode(encoder.encode(new ScsiCommand(false, true, true, false, ScsiCommand.TaskAttribute.SIMPLE,
                        record.lun(), record.initiatorTaskTag() + 1, 512, record.cmdSN() + 1, 0, other,
                        java.util.OptionalInt.empty(), Pdu.NO_DATA)));
                assertEquals(Opcode.SCSI_COMMAND, decoder.heldOpcode());
                assertEquals(other[0], holder.cdb()[0], "the holder has the next command");
                assertArrayEquals(record.cdb(), fromHolder.cdb(), "toRecord copied the CDB");
                assertArrayEquals(record.cdb(), viewCopy.cdb(), "ScsiCommand.of copied the CDB");
                assertEquals(record.withData(Pdu.NO_DATA), kept.toRecord(), "copyOf copied every field and the CDB");
                kept.copyOf(record); // from a record as from a holder
                assertEquals(record.withData(Pdu.NO_DATA), kept.toRecord(), "copyOf of the record");
                decoder.setScsiCommandHolder(null);
                ScsiCommand again = assertInstanceOf(ScsiCommand.class, decoder.decode(encoder.encode(record)), "records again");
                assertEquals(record.withData(Pdu.NO_DATA), again.withData(Pdu.NO_DATA));
                held++;
            }
        }
        assertTrue(held >= 6, "held " + held + " commands");
    }

    @Test
    void theCaptureCoversEveryOpcodeThatLibiscsiAndTgtdExchange() throws PduFormatException {
        Set<Opcode> seen = EnumSet.noneOf(Opcode.class);
        for (String scenario : GoldenVectors.SCENARIOS) {
            for (GoldenVectors.Vector vector : GoldenVectors.load(scenario).vectors()) {
                seen.add(decodeWhole(vector).opcode());
            }
        }
        assertEquals(EnumSet.of(Opcode.NOP_OUT, Opcode.SCSI_COMMAND, Opcode.TASK_MANAGEMENT_REQUEST,
                Opcode.LOGIN_REQUEST, Opcode.TEXT_REQUEST, Opcode.DATA_OUT, Opcode.LOGOUT_REQUEST, Opcode.NOP_IN,
                Opcode.SCSI_RESPONSE, Opcode.TASK_MANAGEMENT_RESPONSE, Opcode.LOGIN_RESPONSE, Opcode.TEXT_RESPONSE,
                Opcode.DATA_IN, Opcode.LOGOUT_RESPONSE, Opcode.R2T), seen);
    }

    @Test
    void discoveryLoginAndSendTargets() throws PduFormatException, TextFormatException {
        GoldenVectors golden = GoldenVectors.load("discovery");
        LoginRequest login = (LoginRequest) decodeWhole(golden.withOpcode(Opcode.LOGIN_REQUEST).getFirst());
        assertEquals(0, login.tsih());
        assertEquals(0, login.versionMax());
        assertEquals(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, login.currentStage());
        assertTrue(login.transit());
        assertEquals(LoginStage.FULL_FEATURE_PHASE, login.nextStage());
        assertTrue(text(login).contains("SessionType=Discovery"), text(login));

        LoginResponse accepted = (LoginResponse) decodeWhole(golden.withOpcode(Opcode.LOGIN_RESPONSE).getFirst());
        assertEquals(login.isid(), accepted.isid());
        assertTrue(accepted.tsih() != 0, "the target assigns a TSIH");
        assertEquals(LoginStatus.SUCCESS, accepted.status().orElseThrow());
        assertEquals(login.initiatorTaskTag(), accepted.initiatorTaskTag());

        TextRequest sendTargets = (TextRequest) decodeWhole(golden.withOpcode(Opcode.TEXT_REQUEST).getFirst());
        assertEquals("SendTargets=All\0", text(sendTargets));
        assertTrue(sendTargets.finalFlag());
        assertEquals(Pdu.RESERVED_TAG, sendTargets.targetTransferTag());
        TextResponse targets = (TextResponse) decodeWhole(golden.withOpcode(Opcode.TEXT_RESPONSE).getFirst());
        assertTrue(text(targets).startsWith("TargetName=iqn.2025-11.io.ostia:golden\0TargetAddress=127.0.0.1:"),
                text(targets));
        assertEquals(sendTargets.initiatorTaskTag(), targets.initiatorTaskTag());
        List<DiscoveredTarget> discovered = DiscoveredTarget.fromSendTargets(TextCodec.parse(targets.data()));
        assertEquals(1, discovered.size());
        assertEquals("iqn.2025-11.io.ostia:golden", discovered.getFirst().name());
        assertEquals("127.0.0.1", discovered.getFirst().addresses().getFirst().host());
        assertEquals(1, discovered.getFirst().addresses().getFirst().portalGroupTag());
        assertTrue(sendTargets.immediate(), "libiscsi sends SendTargets as an immediate command");
        assertEquals(sendTargets.cmdSN(), targets.expCmdSN(), "an immediate command does not advance ExpCmdSN");
    }

    @Test
    void readCapacity16CommandAndDataIn() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("readcapacity");
        ScsiCommand command = golden.withOpcode(Opcode.SCSI_COMMAND).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(ScsiCommand.class::cast).filter(c -> (c.cdb()[0] & 0xff) == 0x9e).findFirst().orElseThrow();
        assertEquals(0x10, command.cdb()[1] & 0x1f, "SERVICE ACTION READ CAPACITY(16)");
        assertTrue(command.read());
        assertFalse(command.write());
        assertEquals(ScsiCommand.TaskAttribute.SIMPLE, command.attribute());
        assertEquals(0x0001_0000_0000_0000L, command.lun(), "LUN 1 in SAM single-level format");

        DataIn capacity = golden.withOpcode(Opcode.DATA_IN).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(DataIn.class::cast).filter(d -> d.initiatorTaskTag() == command.initiatorTaskTag()).findFirst()
                .orElseThrow();
        assertTrue(capacity.finalFlag());
        assertEquals(0, capacity.bufferOffset());
        // 8 MiB of 512-byte blocks: the last LBA is 16383, the block length 512.
        assertEquals(16383L, capacity.data().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(
                java.nio.ByteOrder.BIG_ENDIAN), 0));
        assertEquals(512, capacity.data().get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(
                java.nio.ByteOrder.BIG_ENDIAN), 8));
    }

    @Test
    void writeIsSolicitedByR2tsAndAnsweredWithDataOut() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("write-r2t");
        List<ReadyToTransfer> r2ts = golden.withOpcode(Opcode.R2T).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(ReadyToTransfer.class::cast).toList();
        assertFalse(r2ts.isEmpty());
        for (ReadyToTransfer r2t : r2ts) {
            assertTrue(r2t.desiredDataTransferLength() > 0 && r2t.desiredDataTransferLength() <= 1024,
                    "MaxBurstLength is 1024: " + r2t);
            assertTrue(r2t.targetTransferTag() != Pdu.RESERVED_TAG);
        }
        ReadyToTransfer first = r2ts.getFirst();
        DataOut answer = golden.withOpcode(Opcode.DATA_OUT).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(DataOut.class::cast).filter(d -> d.targetTransferTag() == first.targetTransferTag())
                .findFirst().orElseThrow();
        assertEquals(first.initiatorTaskTag(), answer.initiatorTaskTag());
        assertEquals(first.bufferOffset(), answer.bufferOffset());
        assertEquals(0, answer.dataSN(), "DataSN restarts at 0 for each R2T");
        assertTrue(answer.dataSegmentLength() <= 1024, "target MaxRecvDataSegmentLength is 1024");

        boolean residualSeen = golden.withOpcode(Opcode.SCSI_RESPONSE).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(ScsiResponse.class::cast).anyMatch(r -> r.residualOverflow() || r.residualUnderflow());
        assertTrue(residualSeen, "the residual tests make tgtd report residuals");
    }

    @Test
    void taskManagementAbortTask() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("task-management");
        TaskManagementRequest abort = (TaskManagementRequest) decodeWhole(
                golden.withOpcode(Opcode.TASK_MANAGEMENT_REQUEST).getFirst());
        assertEquals(TaskManagementRequest.Function.ABORT_TASK, abort.function());
        assertTrue(abort.immediate());
        TaskManagementResponse response = (TaskManagementResponse) decodeWhole(
                golden.withOpcode(Opcode.TASK_MANAGEMENT_RESPONSE).getFirst());
        assertEquals(abort.initiatorTaskTag(), response.initiatorTaskTag());
        assertInstanceOf(TaskManagementResponse.Response.class, response.response());
    }

    @Test
    void targetNopInPingIsAnsweredByNopOut() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("nop");
        NopIn ping = (NopIn) decodeWhole(golden.withOpcode(Opcode.NOP_IN).getFirst());
        assertEquals(Pdu.RESERVED_TAG, ping.initiatorTaskTag(), "a target ping carries no task tag");
        assertTrue(ping.targetTransferTag() != Pdu.RESERVED_TAG, "and asks for an answer");
        NopOut answer = golden.withOpcode(Opcode.NOP_OUT).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(NopOut.class::cast).filter(n -> n.targetTransferTag() == ping.targetTransferTag()).findFirst()
                .orElseThrow();
        assertEquals(Pdu.RESERVED_TAG, answer.initiatorTaskTag());
        assertTrue(answer.immediate());
        NopOut ours = NopOut.answering(ping, answer.cmdSN(), answer.expStatSN());
        assertArrayEquals(new PduEncoder(false, false).encode(answer).array(),
                new PduEncoder(false, false).encode(ours).array(), "answering() builds what libiscsi sent");
    }

    @Test
    void headerDigestsAreVerifiedAndLittleEndianOnTheWire() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("inquiry-header-digest");
        GoldenVectors.Vector digested = golden.vectors().stream().filter(GoldenVectors.Vector::headerDigest)
                .findFirst().orElseThrow();
        ByteBuffer bytes = ByteBuffer.wrap(digested.bytes());
        int computed = Digests.crc32c(bytes.slice(0, PduEncoder.BHS_LENGTH));
        assertEquals(computed, Integer.reverseBytes(bytes.getInt(PduEncoder.BHS_LENGTH)),
                "tgtd/libiscsi send the CRC32C least significant byte first");
        decodeWhole(digested);

        byte[] corrupted = digested.bytes().clone();
        corrupted[PduEncoder.BHS_LENGTH] ^= 1;
        PduFormatException failure = assertThrows(PduFormatException.class,
                () -> digested.receiver().decode(ByteBuffer.wrap(corrupted)));
        assertEquals("HeaderDigest", failure.field());
    }

    @Test
    void dataDigestsOfTgtdAreVerifiedAndLittleEndianOnTheWire() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("data-digest");
        GoldenVectors.Vector inquiryData = golden.withOpcode(Opcode.DATA_IN).getFirst();
        assertTrue(inquiryData.dataDigest());
        DataIn dataIn = (DataIn) decodeWhole(inquiryData);
        assertEquals(59, dataIn.dataSegmentLength(), "INQUIRY allocation length 59: one byte of padding");
        ByteBuffer bytes = ByteBuffer.wrap(inquiryData.bytes());
        int dataStart = PduEncoder.BHS_LENGTH + Digests.LENGTH;
        int digestAt = dataStart + PduEncoder.paddedLength(59);
        assertEquals(Digests.crc32c(bytes.slice(dataStart, PduEncoder.paddedLength(59))),
                Integer.reverseBytes(bytes.getInt(digestAt)), "the digest covers the padding, LSB first");

        byte[] corrupted = inquiryData.bytes().clone();
        corrupted[dataStart + 8] ^= 0x20;
        PduFormatException failure = assertThrows(PduFormatException.class,
                () -> inquiryData.receiver().decode(ByteBuffer.wrap(corrupted)));
        assertEquals("DataDigest", failure.field());

        // The write went the other way: tgtd accepted the probe's data digest, and so must we.
        ScsiCommand write = golden.withOpcode(Opcode.SCSI_COMMAND).stream().map(GoldenVectorTest::decodeUnchecked)
                .map(ScsiCommand.class::cast).filter(ScsiCommand::write).findFirst().orElseThrow();
        assertEquals(512, write.dataSegmentLength());
        assertEquals(7, write.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1));
        NopIn echo = (NopIn) decodeWhole(golden.withOpcode(Opcode.NOP_IN).getFirst());
        assertEquals("ping!", text(echo));
        NopOut ping = (NopOut) decodeWhole(golden.withOpcode(Opcode.NOP_OUT).getFirst());
        NopIn ours = NopIn.reply(ping, echo.statSN(), echo.expCmdSN(), echo.maxCmdSN());
        assertArrayEquals(new PduEncoder(true, true).encode(echo).array(),
                new PduEncoder(true, true).encode(ours).array(), "reply() builds what tgtd sent");
    }

    @Test
    void chapLoginCarriesTheChallengeExchange() throws PduFormatException {
        GoldenVectors golden = GoldenVectors.load("chap");
        String all = String.join("\0", golden.vectors().stream().map(GoldenVectorTest::decodeUnchecked)
                .filter(p -> p instanceof LoginRequest || p instanceof LoginResponse).map(GoldenVectorTest::text)
                .toList());
        assertTrue(all.contains("AuthMethod=CHAP\0"), all);
        assertTrue(all.contains("CHAP_N=ostia-user\0"), all);
    }

    static String text(Pdu pdu) {
        return new String(pdu.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    static Pdu decodeUnchecked(GoldenVectors.Vector vector) {
        try {
            return decodeWhole(vector);
        } catch (PduFormatException e) {
            throw new AssertionError("line " + vector.line() + ": " + e.getMessage(), e);
        }
    }
}
