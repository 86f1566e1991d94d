package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PduCodecTest {

    static Stream<Arguments> everyPduWithAndWithoutDigests() {
        List<Arguments> cases = new ArrayList<>();
        for (boolean digests : new boolean[] {false, true}) {
            for (Pdu pdu : SamplePdus.initiatorPdus()) {
                cases.add(Arguments.of(pdu, Side.TARGET, digests));
            }
            for (Pdu pdu : SamplePdus.targetPdus()) {
                cases.add(Arguments.of(pdu, Side.INITIATOR, digests));
            }
        }
        return cases.stream();
    }

    /**
     * Headers written one after another into one buffer (a sender's batch), at any position,
     * into heap or direct buffers, are the same bytes as each written alone.
     */
    @ParameterizedTest(name = "{0} with digests={2}")
    @MethodSource("everyPduWithAndWithoutDigests")
    void headersEncodeTheSameAtAnyPosition(Pdu pdu, Side receiver, boolean digests) {
        PduEncoder encoder = new PduEncoder(digests, digests);
        ByteBuffer alone = ByteBuffer.allocate(encoder.headerLength(pdu));
        encoder.encodeHeader(pdu, alone);
        for (ByteBuffer batch : new ByteBuffer[] {ByteBuffer.allocate(1024), ByteBuffer.allocateDirect(1024)}) {
            batch.position(13);
            encoder.encodeHeader(pdu, batch);
            int second = batch.position();
            encoder.encodeHeader(pdu, batch);
            assertEquals(13 + 2 * alone.capacity(), batch.position());
            for (int start : new int[] {13, second}) {
                byte[] written = new byte[alone.capacity()];
                batch.get(start, written);
                assertArrayEquals(alone.array(), written, () -> "header at position " + start);
            }
        }
    }

    static PduDecoder decoder(Side side, boolean digests) {
        PduDecoder decoder = new PduDecoder(side, 65536);
        decoder.setHeaderDigest(digests);
        decoder.setDataDigest(digests);
        return decoder;
    }

    static byte[] bytesOf(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Records compare CDB arrays and data segments by identity, so compare the wire form and the data. */
    static void assertSamePdu(Pdu expected, Pdu actual) {
        assertEquals(expected.opcode(), actual.opcode());
        assertArrayEquals(new PduEncoder(false, false).encode(expected).array(),
                new PduEncoder(false, false).encode(actual).array(), () -> expected + " vs " + actual);
        assertArrayEquals(bytesOf(expected.data()), bytesOf(actual.data()));
    }

    @Test
    void samplesCoverEveryOpcode() {
        EnumSet<Opcode> covered = EnumSet.noneOf(Opcode.class);
        SamplePdus.initiatorPdus().forEach(p -> covered.add(p.opcode()));
        SamplePdus.targetPdus().forEach(p -> covered.add(p.opcode()));
        assertEquals(EnumSet.allOf(Opcode.class), covered);
    }

    @ParameterizedTest
    @MethodSource("everyPduWithAndWithoutDigests")
    void roundTripsInOneBuffer(Pdu pdu, Side receiver, boolean digests) throws PduFormatException {
        PduEncoder encoder = new PduEncoder(digests, digests);
        ByteBuffer wire = encoder.encode(pdu);
        assertEquals(encoder.encodedLength(pdu), wire.remaining());
        assertEquals(0, wire.remaining() % 4, "PDUs are padded to four bytes");
        Pdu decoded = decoder(receiver, digests).decode(wire);
        assertFalse(wire.hasRemaining());
        assertEquals(pdu.getClass(), decoded.getClass());
        assertSamePdu(pdu, decoded);
        if (!(pdu instanceof ScsiCommand)) {
            // Everything but the CDB array and the data segment compares by value.
            assertEquals(pdu.withData(Pdu.NO_DATA).toString().replaceAll("data=\\S+", ""),
                    decoded.withData(Pdu.NO_DATA).toString().replaceAll("data=\\S+", ""));
        }
    }

    @ParameterizedTest
    @MethodSource("everyPduWithAndWithoutDigests")
    void decodesByteByByte(Pdu pdu, Side receiver, boolean digests) throws PduFormatException {
        byte[] wire = new PduEncoder(digests, digests).encode(pdu).array();
        PduDecoder decoder = decoder(receiver, digests);
        Pdu decoded = null;
        for (int i = 0; i < wire.length; i++) {
            assertNull(decoded, "completed before its last byte");
            decoded = decoder.decode(ByteBuffer.wrap(wire, i, 1));
        }
        assertSamePdu(pdu, decoded);
        assertEquals(PduDecoder.State.BHS, decoder.state());
    }

    @Test
    void decodesAStreamSplitAtRandomPoints() throws PduFormatException {
        PduEncoder encoder = new PduEncoder(true, true);
        List<Pdu> sent = SamplePdus.targetPdus();
        ByteBuffer stream = ByteBuffer.allocate(sent.stream().mapToInt(encoder::encodedLength).sum());
        sent.forEach(p -> encoder.encode(p, stream));
        byte[] wire = stream.array();
        Random random = new Random(7143);
        for (int round = 0; round < 50; round++) {
            PduDecoder decoder = decoder(Side.INITIATOR, true);
            List<Pdu> received = new ArrayList<>();
            int offset = 0;
            while (offset < wire.length) {
                int chunk = Math.min(wire.length - offset, 1 + random.nextInt(round % 2 == 0 ? 7 : 200));
                ByteBuffer src = ByteBuffer.wrap(wire, offset, chunk);
                decoder.feed(src, received::add);
                assertFalse(src.hasRemaining());
                offset += chunk;
            }
            assertEquals(sent.size(), received.size());
            for (int i = 0; i < sent.size(); i++) {
                assertSamePdu(sent.get(i), received.get(i));
            }
        }
    }

    @Test
    void pullStyleReadsDataStraightIntoThePlacedSegment() throws PduFormatException {
        byte[] payload = new byte[1001];
        new Random(1).nextBytes(payload);
        DataIn dataIn = new DataIn(true, false, false, false, false, 0, 0, 5, -1, 0, 1, 2, 0, 24, 0,
                MemorySegment.ofArray(payload));
        ByteBuffer wire = new PduEncoder(true, true).encode(dataIn);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment readBuffer = arena.allocate(2048);
            PduDecoder decoder = decoder(Side.INITIATOR, true);
            decoder.setDataPlacement((header, length) -> {
                throw new AssertionError("a Data-In's data is placed by the DataInPlacement, not asked of " + header);
            });
            decoder.setDataInPlacement((itt, dataSN, bufferOffset, length) -> itt == 5 && dataSN == 0
                    ? readBuffer.asSlice(bufferOffset, length) : null);
            List<PduDecoder.State> states = new ArrayList<>();
            int[] firstReadLength = {decoder.readTarget().remaining()};
            Pdu decoded = null;
            while (decoded == null) {
                states.add(decoder.state());
                ByteBuffer target = decoder.readTarget();
                // A socket read: at most 300 bytes at a time into the target.
                int count = Math.min(Math.min(target.remaining(), wire.remaining()), 300);
                target.put(wire.slice(wire.position(), count));
                wire.position(wire.position() + count);
                decoded = decoder.advance();
            }
            // BHS and header digest come in one read, padding and data digest in another.
            assertEquals(List.of(PduDecoder.State.BHS, PduDecoder.State.DATA, PduDecoder.State.DATA,
                    PduDecoder.State.DATA, PduDecoder.State.DATA, PduDecoder.State.PADDING), states);
            assertEquals(52, firstReadLength[0]);
            assertEquals(readBuffer.address() + 24, decoded.data().address(), "no copy: data sits in the read buffer");
            assertArrayEquals(payload, bytesOf(readBuffer.asSlice(24, payload.length)));
            assertEquals(dataIn.withData(decoded.data()), decoded, "every header field decoded");
        }
    }

    @Test
    void targetSideReadsTheAhsBeforeTheHeaderDigest() throws PduFormatException {
        ScsiCommand command = (ScsiCommand) SamplePdus.initiatorPdus().get(2);
        ByteBuffer wire = new PduEncoder(true, true).encode(command);
        PduDecoder decoder = decoder(Side.TARGET, true);
        List<PduDecoder.State> states = new ArrayList<>();
        Pdu decoded = null;
        while (decoded == null) {
            states.add(decoder.state());
            ByteBuffer target = decoder.readTarget();
            int count = target.remaining();
            target.put(wire.slice(wire.position(), count));
            wire.position(wire.position() + count);
            decoded = decoder.advance();
        }
        assertEquals(List.of(PduDecoder.State.BHS, PduDecoder.State.AHS, PduDecoder.State.HEADER_DIGEST,
                PduDecoder.State.DATA, PduDecoder.State.PADDING), states);
        assertSamePdu(command, decoded);
    }

    /**
     * Pushed data lands in the placed segment as sent whatever buffer it comes from (heap,
     * read-only heap, direct of either byte order), in pieces of any size (each a new buffer, so
     * a new copy source), and when a pull reader takes over in the middle of the data segment.
     */
    @Test
    void pushedDataLandsInThePlacedSegmentFromEveryKindOfBuffer() throws PduFormatException {
        byte[] payload = new byte[1001];
        new Random(2).nextBytes(payload);
        ScsiCommand command = ((ScsiCommand) SamplePdus.initiatorPdus().get(2)).withData(MemorySegment.ofArray(payload));
        byte[] wire = new PduEncoder(false, false).encode(command).array();
        for (String source : List.of("heap", "read-only heap", "direct big-endian", "direct little-endian")) {
            for (int piece : new int[] {wire.length, 13, 7}) {
                for (boolean pullMidway : new boolean[] {false, true}) {
                    String what = source + " in pieces of " + piece + (pullMidway ? ", pulled midway" : "");
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment placed = arena.allocate(payload.length);
                        PduDecoder decoder = decoder(Side.TARGET, false);
                        decoder.setDataPlacement((header, length) -> placed);
                        ByteBuffer bytes = switch (source) {
                            case "heap" -> ByteBuffer.wrap(wire);
                            case "read-only heap" -> ByteBuffer.wrap(wire).asReadOnlyBuffer();
                            default -> ByteBuffer.allocateDirect(wire.length).order(source.endsWith("little-endian")
                                    ? java.nio.ByteOrder.LITTLE_ENDIAN : java.nio.ByteOrder.BIG_ENDIAN).put(wire).flip();
                        };
                        int headerLength = wire.length - payload.length - 3; // 3: padding to four bytes
                        Pdu decoded = null;
                        boolean pulled = false;
                        while (decoded == null && bytes.hasRemaining()) {
                            if (pullMidway && !pulled && decoder.state() == PduDecoder.State.DATA
                                    && bytes.position() > headerLength) {
                                ByteBuffer target = decoder.readTarget(); // a view, after what was pushed
                                assertEquals(bytes.position() - headerLength, target.position(), what);
                                int rest = target.remaining();
                                target.put(bytes.slice(bytes.position(), rest));
                                bytes.position(bytes.position() + rest);
                                assertNull(decoder.advance(), what + ": the padding is still due");
                                pulled = true;
                                continue;
                            }
                            int end = Math.min(bytes.limit(), bytes.position() + piece);
                            ByteBuffer chunk = bytes.duplicate().order(bytes.order()).limit(end);
                            decoded = decoder.decode(chunk);
                            bytes.position(chunk.position());
                        }
                        assertEquals(pullMidway && piece < wire.length, pulled, what + ": the pull case ran");
                        assertTrue(decoded instanceof ScsiCommand, what);
                        assertEquals(placed.address(), decoded.data().address(), what + ": data sits in the placed segment");
                        assertArrayEquals(payload, bytesOf(placed), what);
                        assertSamePdu(command, decoded);
                    }
                }
            }
        }
    }

    @Test
    void headerEncodingLeavesDataForAGatherWrite() {
        MemorySegment data = SamplePdus.bytes("twelve bytes");
        DataOut dataOut = new DataOut(true, 0, 1, 2, 3, 0, 0, data);
        PduEncoder encoder = new PduEncoder(true, true);
        ByteBuffer header = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH);
        assertEquals(52, encoder.encodeHeader(dataOut, header));
        ByteBuffer trailer = ByteBuffer.allocate(8);
        encoder.encodeTrailer(data.byteSize() == 12 ? 12 : -1, Digests.dataDigest(List.of(data.asSlice(0, 5),
                data.asSlice(5))), trailer);
        assertEquals(4, trailer.position(), "12 bytes need no padding, only the digest");
        ByteBuffer whole = encoder.encode(dataOut);
        assertEquals(header.flip(), whole.slice(0, 52));
        assertEquals(trailer.flip(), whole.slice(64, 4));
    }

    @Test
    void dataOutHeaderWithoutAPduIsTheSameBytes() {
        DataOut dataOut = new DataOut(false, 0x0001_0000_0000_0000L, 0x17, 0x1234, 14, 2, 8192,
                SamplePdus.bytes("write data "));
        for (boolean headerDigest : new boolean[] {false, true}) {
            PduEncoder encoder = new PduEncoder(headerDigest, false);
            ByteBuffer fromPdu = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH);
            encoder.encodeHeader(dataOut, fromPdu);
            // At an offset, as in a send buffer that already holds other PDUs.
            ByteBuffer direct = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH).position(5);
            int length = encoder.encodeDataOutHeader(false, dataOut.lun(), 0x17, 0x1234, 14, 2, 8192,
                    dataOut.dataSegmentLength(), direct);
            assertEquals(fromPdu.position(), length);
            assertEquals(5 + length, direct.position());
            assertEquals(fromPdu.flip(), direct.slice(5, length), "header digest " + headerDigest);
        }
    }

    /** What a transport writes for a command with immediate data is the header of the record it no longer builds. */
    @Test
    void commandHeaderWithImmediateDataIsTheSameBytesAsTheRecord() {
        for (Pdu sample : SamplePdus.initiatorPdus()) {
            if (!(sample instanceof ScsiCommand command)) {
                continue;
            }
            MemorySegment data = Arena.global().allocate(command.expectedDataTransferLength());
            for (boolean headerDigest : new boolean[] {false, true}) {
                PduEncoder encoder = new PduEncoder(headerDigest, false);
                for (int immediate : new int[] {0, 1, command.expectedDataTransferLength()}) {
                    for (boolean finalFlag : new boolean[] {false, true}) {
                        ScsiCommand record = command.withData(Pdu.NO_DATA).withImmediateData(data.asSlice(0, immediate),
                                finalFlag);
                        ByteBuffer fromRecord = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH + 1024);
                        encoder.encodeHeader(record, fromRecord);
                        ByteBuffer direct = ByteBuffer.allocateDirect(PduEncoder.MAX_HEADER_LENGTH + 1024).position(7);
                        int length = encoder.encodeCommandHeader(command.withData(Pdu.NO_DATA), immediate, finalFlag, direct);
                        assertEquals(fromRecord.position(), length);
                        assertEquals(fromRecord.flip(), direct.slice(7, length),
                                command + " immediate " + immediate + " F " + finalFlag + " digest " + headerDigest);
                        // A session layer's task is a view, not the record: the same bytes from its fields.
                        ByteBuffer fromView = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH + 1024);
                        assertEquals(length, encoder.encodeCommandHeader(new HeaderView(command), immediate, finalFlag,
                                fromView));
                        assertEquals(fromRecord, fromView.flip(), "view of " + command);
                    }
                }
            }
            ScsiCommand bare = command.withData(Pdu.NO_DATA);
            PduEncoder encoder = new PduEncoder(false, false);
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> encoder
                    .encodeCommandHeader(bare, bare.expectedDataTransferLength() + 1, true, ByteBuffer.allocate(1024)));
            assertTrue(tooLong.getMessage().contains("ExpectedDataTransferLength"), tooLong.getMessage());
            assertEquals(bare, ScsiCommand.of(new HeaderView(bare)), "the record of a view has the view's fields");
        }
        IllegalArgumentException noCdb = assertThrows(IllegalArgumentException.class, () -> new PduEncoder(false, false)
                .encodeCommandHeader(new HeaderView(ScsiCommand.of(1, 2, new byte[6], true, false, 0)) {
                    @Override
                    public byte[] cdb() {
                        return new byte[0];
                    }
                }, 0, true, ByteBuffer.allocate(1024)));
        assertTrue(noCdb.getMessage().contains("CDB length 0"), noCdb.getMessage());
    }

    /** A command's fields as a task would show them: not a {@link ScsiCommand}. */
    private static class HeaderView implements CommandHeader {
        private final ScsiCommand c;

        HeaderView(ScsiCommand c) {
            this.c = c;
        }

        @Override public boolean immediate() { return c.immediate(); }
        @Override public boolean finalFlag() { return c.finalFlag(); }
        @Override public boolean read() { return c.read(); }
        @Override public boolean write() { return c.write(); }
        @Override public ScsiCommand.TaskAttribute attribute() { return c.attribute(); }
        @Override public long lun() { return c.lun(); }
        @Override public int initiatorTaskTag() { return c.initiatorTaskTag(); }
        @Override public int expectedDataTransferLength() { return c.expectedDataTransferLength(); }
        @Override public int cmdSN() { return c.cmdSN(); }
        @Override public int expStatSN() { return c.expStatSN(); }
        @Override public byte[] cdb() { return c.cdb(); }
        @Override public java.util.OptionalInt expectedBidirectionalReadDataLength() {
            return c.expectedBidirectionalReadDataLength();
        }
    }

    @Test
    void paddingRoundsUpToFourBytes() {
        assertEquals(0, PduEncoder.paddingLength(0));
        assertEquals(3, PduEncoder.paddingLength(1));
        assertEquals(2, PduEncoder.paddingLength(6));
        assertEquals(1, PduEncoder.paddingLength(7));
        assertEquals(8, PduEncoder.paddedLength(5));
        assertEquals(3 + 4, new PduEncoder(false, true).trailerLength(5));
        assertEquals(0, new PduEncoder(true, true).trailerLength(0), "no data, no data digest");
    }

    /** RFC 3720 Appendix B.4 lists these CRC32C results in wire order. */
    @Test
    void crc32cMatchesTheRfc3720TestVectors() {
        byte[] ascending = new byte[32];
        byte[] descending = new byte[32];
        byte[] ones = new byte[32];
        for (int i = 0; i < 32; i++) {
            ascending[i] = (byte) i;
            descending[i] = (byte) (31 - i);
            ones[i] = (byte) 0xff;
        }
        assertEquals("aa36918a", wire(new byte[32]));
        assertEquals("43aba862", wire(ones));
        assertEquals("4e79dd46", wire(ascending));
        assertEquals("5cdb3f11", wire(descending));
    }

    private static String wire(byte[] bytes) {
        ByteBuffer digest = ByteBuffer.allocate(4);
        Digests.put(digest, Digests.dataDigest(MemorySegment.ofArray(bytes)));
        return HexFormat.of().formatHex(digest.array());
    }

    @Test
    void extendedCdbAndBidirectionalLengthTravelInAhs() throws PduFormatException {
        ScsiCommand command = (ScsiCommand) SamplePdus.initiatorPdus().get(2);
        ByteBuffer wire = new PduEncoder(false, false).encode(command);
        assertEquals(7, wire.get(4), "TotalAHSLength in words: 20 bytes of Extended CDB AHS, 8 of bidirectional");
        assertEquals(17, wire.getShort(48), "AHSLength counts the reserved byte");
        ScsiCommand decoded = (ScsiCommand) decoder(Side.TARGET, false).decode(wire);
        assertArrayEquals(command.cdb(), decoded.cdb());
        assertEquals(8192, decoded.expectedBidirectionalReadDataLength().getAsInt());
    }

    @Test
    void dataInWithStatusButNotFinalIsRefusedBeforeItsDataIsPlaced() {
        DataIn withStatus = new DataIn(true, false, false, false, true, 0, 0, 7, -1, 1, 2, 3, 0, 0, 0,
                MemorySegment.ofArray(new byte[16]));
        ByteBuffer wire = new PduEncoder(false, false).encode(withStatus);
        wire.put(1, (byte) (wire.get(1) & ~0x80)); // S without F
        PduDecoder decoder = new PduDecoder(Side.INITIATOR, 8192);
        decoder.setDataInPlacement((itt, dataSN, bufferOffset, length) -> {
            throw new AssertionError("asked to place " + length + " bytes");
        });
        PduFormatException failure = assertThrows(PduFormatException.class, () -> decoder.decode(wire));
        assertEquals("S", failure.field());
        assertEquals(PduDecoder.State.FAILED, decoder.state());
    }

    @Test
    void oversizeDataSegmentFailsBeforeAnyAllocation() {
        DataIn big = new DataIn(true, false, false, false, false, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0,
                MemorySegment.ofArray(new byte[1 << 20]));
        ByteBuffer header = ByteBuffer.allocate(PduEncoder.BHS_LENGTH);
        new PduEncoder(false, false).encodeHeader(big, header);
        PduDecoder decoder = new PduDecoder(Side.INITIATOR, 262144);
        decoder.setDataPlacement((h, length) -> {
            throw new AssertionError("asked to place " + length + " bytes");
        });
        PduFormatException failure = assertThrows(PduFormatException.class, () -> decoder.decode(header.flip()));
        assertEquals("DataSegmentLength", failure.field());
        assertEquals("DataSegmentLength 1048576 exceeds MaxRecvDataSegmentLength 262144", failure.getMessage());
        assertEquals(PduDecoder.State.FAILED, decoder.state());
        assertThrows(IllegalStateException.class, decoder::readTarget);
        assertThrows(IllegalStateException.class, () -> decoder.decode(ByteBuffer.allocate(1)));
        assertSame(failure, decoder.failure());
    }

    @Test
    void dataSegmentOnAnOpcodeWithoutDataIsRejected() {
        byte[] r2t = new PduEncoder(false, false).encode(SamplePdus.targetPdus().get(9)).array();
        r2t[7] = 4;
        PduFormatException failure = assertThrows(PduFormatException.class,
                () -> new PduDecoder(Side.INITIATOR, 8192).decode(ByteBuffer.wrap(r2t)));
        assertEquals("DataSegmentLength", failure.field());
    }

    @Test
    void badAhsLengthsAreRejected() {
        ScsiCommand command = (ScsiCommand) SamplePdus.initiatorPdus().get(2);
        byte[] wire = new PduEncoder(false, false).encode(command).array();
        byte[] tooLong = wire.clone();
        tooLong[48] = 0x01; // AHSLength 0x0111 runs past TotalAHSLength
        assertField("AHSLength", Side.TARGET, tooLong);
        byte[] zero = wire.clone();
        zero[48] = 0;
        zero[49] = 0;
        assertField("AHSLength", Side.TARGET, zero);
        byte[] unknownType = wire.clone();
        unknownType[50] = 9;
        assertField("AHSType", Side.TARGET, unknownType);
        byte[] ahsOnNop = new PduEncoder(false, false).encode(SamplePdus.initiatorPdus().getFirst()).array();
        ahsOnNop[4] = 1;
        assertField("TotalAHSLength", Side.TARGET, ahsOnNop);
    }

    @Test
    void dataDigestMismatchIsReported() {
        byte[] wire = new PduEncoder(true, true).encode(SamplePdus.targetPdus().get(6)).array();
        wire[60] ^= 0x40; // a data byte
        PduFormatException failure = assertField("DataDigest", Side.INITIATOR, wire, true);
        assertTrue(failure.getMessage().contains("DATA_IN data segment (9 bytes)"), failure.getMessage());
    }

    @Test
    void aCorruptedHeaderIsReportedAsADigestErrorWhenTheDigestIsAtHand() {
        byte[] wire = new PduEncoder(true, true).encode(SamplePdus.targetPdus().get(6)).array();
        wire[0] = 0x1c; // would otherwise be "reserved opcode"
        assertField("HeaderDigest", Side.INITIATOR, wire, true);
    }

    @Test
    void wrongSideAndReservedOpcodesAreRejected() {
        byte[] scsiCommand = new PduEncoder(false, false).encode(SamplePdus.initiatorPdus().get(1)).array();
        PduFormatException wrongSide = assertField("Opcode", Side.INITIATOR, scsiCommand);
        assertTrue(wrongSide.getMessage().contains("SCSI_COMMAND"), wrongSide.getMessage());
        byte[] dataIn = new PduEncoder(false, false).encode(SamplePdus.targetPdus().get(6)).array();
        assertField("Opcode", Side.TARGET, dataIn);
        byte[] reserved = dataIn.clone();
        reserved[0] = 0x1c; // vendor specific
        assertField("Opcode", Side.TARGET, reserved);
    }

    @Test
    void undefinedFieldValuesNameTheirField() {
        byte[] tmf = new PduEncoder(false, false).encode(SamplePdus.initiatorPdus().get(3)).array();
        tmf[1] = (byte) 0x8f;
        assertField("Function", Side.TARGET, tmf);
        byte[] login = new PduEncoder(false, false).encode(SamplePdus.initiatorPdus().get(4)).array();
        login[1] = (byte) 0x89; // CSG 2 is reserved
        assertField("CSG", Side.TARGET, login);
        byte[] text = new PduEncoder(false, false).encode(SamplePdus.initiatorPdus().get(5)).array();
        text[1] = (byte) 0xc0;
        assertField("C", Side.TARGET, text);
    }

    @Test
    void digestsSwitchOnlyBetweenPdus() throws PduFormatException {
        PduDecoder decoder = new PduDecoder(Side.INITIATOR, 8192);
        byte[] wire = new PduEncoder(false, false).encode(SamplePdus.targetPdus().getFirst()).array();
        assertNull(decoder.decode(ByteBuffer.wrap(wire, 0, 10)));
        assertThrows(IllegalStateException.class, () -> decoder.setHeaderDigest(true));
        decoder.decode(ByteBuffer.wrap(wire, 10, wire.length - 10));
        decoder.setHeaderDigest(true);
        assertTrue(decoder.headerDigest());
    }

    @Test
    void digestsSwitchedFromTheCallbackApplyToTheNextPduInTheSameBuffer() throws PduFormatException {
        Pdu lastLogin = SamplePdus.targetPdus().get(3);
        Pdu firstDigested = SamplePdus.targetPdus().get(6);
        ByteBuffer wire = ByteBuffer.allocate(1024);
        new PduEncoder(false, false).encode(lastLogin, wire);
        new PduEncoder(true, true).encode(firstDigested, wire);
        PduDecoder decoder = new PduDecoder(Side.INITIATOR, 8192);
        List<Pdu> received = new ArrayList<>();
        decoder.feed(wire.flip(), pdu -> {
            received.add(pdu);
            if (pdu instanceof LoginResponse) {
                decoder.setHeaderDigest(true);
                decoder.setDataDigest(true);
            }
        });
        assertEquals(2, received.size());
        assertSamePdu(firstDigested, received.get(1));
    }

    @Test
    void placementOfTheWrongSizeFailsTheDecoder() {
        Pdu dataIn = SamplePdus.targetPdus().get(6);
        assertInstanceOf(DataIn.class, dataIn);
        byte[] wire = new PduEncoder(false, false).encode(dataIn).array();
        PduDecoder decoder = new PduDecoder(Side.INITIATOR, 8192);
        decoder.setDataInPlacement((itt, dataSN, offset, length) -> MemorySegment.ofArray(new byte[length + 1]));
        assertThrows(IllegalStateException.class, () -> decoder.decode(ByteBuffer.wrap(wire)));
        assertEquals(PduDecoder.State.FAILED, decoder.state());

        Pdu dataOut = SamplePdus.initiatorPdus().get(6);
        assertInstanceOf(DataOut.class, dataOut);
        byte[] outWire = new PduEncoder(false, false).encode(dataOut).array();
        PduDecoder targetDecoder = new PduDecoder(Side.TARGET, 8192);
        targetDecoder.setDataPlacement((header, length) -> MemorySegment.ofArray(new byte[length - 1]));
        IllegalStateException tooSmall = assertThrows(IllegalStateException.class,
                () -> targetDecoder.decode(ByteBuffer.wrap(outWire)));
        assertTrue(tooSmall.getMessage().contains("needs at least"), tooSmall.getMessage());
        assertEquals(PduDecoder.State.FAILED, targetDecoder.state());

        PduDecoder readOnly = new PduDecoder(Side.TARGET, 8192);
        readOnly.setDataPlacement((header, length) -> MemorySegment.ofArray(new byte[length + 8]).asReadOnly());
        assertThrows(IllegalStateException.class, () -> readOnly.decode(ByteBuffer.wrap(outWire)));
        assertEquals(PduDecoder.State.FAILED, readOnly.state());
    }

    /**
     * A DataPlacement may give a segment longer than the data segment (a pooled write buffer):
     * the decoder fills its start and nothing after, pushed or pulled, with the data digest over
     * the data alone; a record's data is the data alone, a holder's placed segment the whole one.
     */
    @Test
    void placementLongerThanTheDataSegmentTakesTheDataAtItsStart() throws PduFormatException {
        byte[] payload = new byte[1001];
        new Random(3).nextBytes(payload);
        ScsiCommand command = ((ScsiCommand) SamplePdus.initiatorPdus().get(2)).withData(MemorySegment.ofArray(payload));
        byte[] wire = new PduEncoder(true, true).encode(command).array();
        for (boolean pull : new boolean[] {false, true}) {
            for (boolean holder : new boolean[] {false, true}) {
                String what = (pull ? "pulled" : "pushed") + (holder ? " into a holder" : " into a record");
                MemorySegment placed = MemorySegment.ofArray(new byte[payload.length + 100]).fill((byte) 0x5a);
                PduDecoder decoder = decoder(Side.TARGET, true);
                ScsiCommandHolder commands = new ScsiCommandHolder();
                if (holder) {
                    decoder.setScsiCommandHolder(commands);
                }
                decoder.setDataPlacement(new DataPlacement() {
                    @Override
                    public MemorySegment destination(Pdu header, int length) {
                        return placed;
                    }

                    @Override
                    public MemorySegment commandDestination(CommandHeader c, int length) {
                        return placed;
                    }
                });
                ByteBuffer bytes = ByteBuffer.wrap(wire);
                Pdu decoded = null;
                while (decoded == null && decoder.heldOpcode() == null) {
                    if (pull) {
                        ByteBuffer target = decoder.readTarget();
                        int count = Math.min(target.remaining(), bytes.remaining());
                        target.put(bytes.slice(bytes.position(), count));
                        bytes.position(bytes.position() + count);
                        decoded = decoder.advance();
                    } else {
                        decoded = decoder.decode(bytes);
                    }
                }
                assertFalse(bytes.hasRemaining(), what + ": the whole PDU, digest and all, was taken");
                assertArrayEquals(payload, bytesOf(placed.asSlice(0, payload.length)), what);
                for (int i = payload.length; i < placed.byteSize(); i++) {
                    assertEquals((byte) 0x5a, placed.get(ValueLayout.JAVA_BYTE, i), what + ": byte " + i + " untouched");
                }
                MemorySegment data = holder ? commands.data() : decoded.data();
                assertEquals(payload.length, data.byteSize(), what + ": the data alone");
                assertEquals(placed.address(), data.address(), what + ": no copy");
                if (holder) {
                    assertSame(placed, commands.placedData(), what);
                    assertEquals(payload.length, commands.dataSegmentLength(), what);
                    assertSamePdu(command, commands.toRecord());
                } else {
                    assertSamePdu(command, decoded);
                }
            }
        }
    }

    private static PduFormatException assertField(String field, Side receiver, byte[] wire) {
        return assertField(field, receiver, wire, false);
    }

    private static PduFormatException assertField(String field, Side receiver, byte[] wire, boolean digests) {
        PduFormatException failure = assertThrows(PduFormatException.class,
                () -> decoder(receiver, digests).decode(ByteBuffer.wrap(wire)));
        assertEquals(field, failure.field(), failure.getMessage());
        return failure;
    }
}
