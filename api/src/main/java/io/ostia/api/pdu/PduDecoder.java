package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A resumable decoder for one connection's stream of PDUs, as a state machine with explicit
 * {@linkplain State states}. Not thread-safe: one reader drives it.
 *
 * <p>Two ways to drive the same state machine:
 * <ul>
 *   <li>pull, for zero-copy socket reads: read from the channel into {@link #readTarget()} and call
 *       {@link #advance()} whenever it is full; a data segment is read straight into the segment
 *       the {@link DataPlacement} (for a Data-In the {@link DataInPlacement}) chose;</li>
 *   <li>push, for callers that already hold bytes: {@link #decode(ByteBuffer)} copies from a
 *       buffer and returns one PDU at a time, {@link #feed(ByteBuffer, Consumer)} all of them.</li>
 * </ul>
 *
 * <p>The two mix freely on one decoder: a transport can read the socket into a staging buffer and
 * {@link #decode} small PDUs from it, and when the decoder is in {@link State#DATA} with a large
 * remainder, read the rest of the data segment from the channel straight into {@link
 * #readTarget()}. A read target may cover the bytes of more than one state (an initiator reads
 * BHS and header digest at once, padding and data digest are read together); {@link #advance()}
 * moves through all of them.
 *
 * <p>Every length is checked against RFC 7143 and the negotiated limit before anything is
 * allocated. The first malformed PDU moves the decoder to {@link State#FAILED} for good: a
 * connection cannot resynchronise on a byte stream once framing is in doubt.
 *
 * <p>Digest and limit settings take effect from the next PDU; digests may only be switched
 * between PDUs (for example from the callback that received the last Login Response).
 */
public final class PduDecoder {

    /** What the decoder reads next. */
    public enum State {
        /** The 48-byte Basic Header Segment. */
        BHS,
        /** The Additional Header Segments, TotalAHSLength words. */
        AHS,
        /** The CRC32C of BHS and AHS. */
        HEADER_DIGEST,
        /** The data segment, into the placement's destination. */
        DATA,
        /** The 1..3 bytes padding the data segment to four bytes. */
        PADDING,
        /** The CRC32C of data segment and padding. */
        DATA_DIGEST,
        /** A malformed PDU was seen; the decoder takes no more input. */
        FAILED
    }

    private static final int BHS_LENGTH = PduEncoder.BHS_LENGTH;

    private final Side localSide;
    private boolean headerDigest;
    private boolean dataDigest;
    private int maxRecvDataSegmentLength;
    private DataPlacement placement = DataPlacement.ALLOCATE;
    private DataInPlacement dataInPlacement = DataInPlacement.ALLOCATE;

    /** BHS, AHS and header digest, contiguous so that the digest covers one region. */
    private final ByteBuffer header = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH);
    /** Padding and data digest. */
    private final ByteBuffer trailer = ByteBuffer.allocate(3 + Digests.LENGTH);
    private final CRC32C crc = new CRC32C();

    private State state;
    /** The read target; in {@link State#DATA} null until a pull reader asks for a view of the data's destination. */
    private ByteBuffer target;
    /** Bytes of the data segment in so far (in {@link State#DATA}, the view's position once there is a view). */
    private int dataFilled;
    /** The buffer {@link #copyData} last copied from, and a segment over all of its memory. */
    private ByteBuffer copySource;
    private MemorySegment copySourceSegment;
    private Opcode opcode;
    private int ahsLength;
    private int dataSegmentLength;
    private Pdu decodedHeader;
    private MemorySegment dataDestination;
    private Exception failure;
    /** The SCSI Response fields, in the caller's holder or in this decoder's own for records. */
    private ScsiResponseHolder responses = new ScsiResponseHolder();
    private boolean holdResponses;
    /** The SCSI Command fields, in the caller's holder or in this decoder's own for records. */
    private ScsiCommandHolder commands = new ScsiCommandHolder();
    private boolean holdCommands;
    /** The opcode of the PDU the last call completed into a holder, or null. */
    private Opcode held;

    /**
     * @param localSide the side this decoder runs on: an initiator decodes target PDUs and the
     *     other way round; a PDU of the local side's own opcodes is a protocol error
     * @param maxRecvDataSegmentLength the largest DataSegmentLength accepted (the local
     *     MaxRecvDataSegmentLength; 8192 during login)
     */
    public PduDecoder(Side localSide, int maxRecvDataSegmentLength) {
        this.localSide = Objects.requireNonNull(localSide, "localSide");
        setMaxRecvDataSegmentLength(maxRecvDataSegmentLength);
        expectHeader();
    }

    public Side localSide() {
        return localSide;
    }

    public State state() {
        return state;
    }

    /** The failure that moved the decoder to {@link State#FAILED}, or {@code null}. */
    public Exception failure() {
        return failure;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    public int maxRecvDataSegmentLength() {
        return maxRecvDataSegmentLength;
    }

    /** Switches the header digest; only between PDUs. */
    public void setHeaderDigest(boolean on) {
        requireBetweenPdus("header digest");
        headerDigest = on;
        expectHeader();
    }

    /** Switches the data digest; only between PDUs. */
    public void setDataDigest(boolean on) {
        requireBetweenPdus("data digest");
        dataDigest = on;
    }

    /** The largest DataSegmentLength accepted from the next header on (1 .. 2^24-1). */
    public void setMaxRecvDataSegmentLength(int bytes) {
        if (bytes < 1 || bytes > PduChecks.MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength " + bytes + " is outside 1.."
                    + PduChecks.MAX_DATA_SEGMENT_LENGTH);
        }
        maxRecvDataSegmentLength = bytes;
    }

    /** Where data segments go from the next header on; {@link DataPlacement#ALLOCATE} by default. */
    public void setDataPlacement(DataPlacement placement) {
        this.placement = Objects.requireNonNull(placement, "placement");
    }

    /** Where Data-In data segments go from the next header on; {@link DataInPlacement#ALLOCATE} by default. */
    public void setDataInPlacement(DataInPlacement placement) {
        this.dataInPlacement = Objects.requireNonNull(placement, "placement");
    }

    /**
     * Decodes SCSI Responses without a data segment into {@code holder} from the next header on,
     * rather than into a new record each ({@code null}: records again). {@link #advance()} and
     * {@link #decode(ByteBuffer)} then return {@code null} for such a response and {@link
     * #heldOpcode()} says it was completed; the holder has its fields until the next call
     * (see {@link ScsiResponseHolder} for the lifetime rule). {@link #feed} hands a held
     * response on as its record.
     */
    public void setScsiResponseHolder(ScsiResponseHolder holder) {
        holdResponses = holder != null;
        responses = holdResponses ? holder : new ScsiResponseHolder();
    }

    /**
     * Decodes SCSI Commands into {@code holder} from the next header on,
     * rather than into a new record and CDB array each ({@code null}: records again), as {@link
     * #setScsiResponseHolder} does for responses: {@link #advance()} and {@link #decode(ByteBuffer)}
     * return {@code null} for such a command and {@link #heldOpcode()} says so; see {@link
     * ScsiCommandHolder} for the lifetime rule. Immediate data goes where {@link
     * DataPlacement#commandDestination} says, and is the holder's {@code data()}.
     * {@link #feed} hands a held command on as its record.
     *
     * @since 0.6
     */
    public void setScsiCommandHolder(ScsiCommandHolder holder) {
        holdCommands = holder != null;
        commands = holdCommands ? holder : new ScsiCommandHolder();
    }

    /**
     * The opcode of the PDU that the last {@link #advance()} or {@link #decode(ByteBuffer)}
     * completed into a holder instead of returning it (a null return then means complete, not
     * more bytes needed); null when it returned a record or needs more bytes.
     */
    public Opcode heldOpcode() {
        return held;
    }

    /**
     * The buffer to read into next: part of the header buffer, a view of the data destination, or
     * the trailer buffer. Fill it (a partial fill is fine) and call {@link #advance()}.
     *
     * @throws IllegalStateException when the decoder has failed
     */
    public ByteBuffer readTarget() {
        requireNotFailed();
        if (target == null) { // in DATA: a view only for a pull reader; decode(ByteBuffer) copies without one
            // Limited: a placement's destination may be longer than the data segment.
            target = dataDestination.asByteBuffer().limit(dataSegmentLength).position(dataFilled);
        }
        return target;
    }

    /** Bytes the current state still needs. */
    private int needed() {
        if (state != State.DATA) {
            return target.remaining();
        }
        if (target != null) {
            dataFilled = target.position();
        }
        return dataSegmentLength - dataFilled;
    }

    /**
     * Moves on if the read target is full.
     *
     * @return the PDU that the last read completed, or {@code null} when more bytes are needed
     * @throws PduFormatException when the PDU is malformed; the decoder is then {@link State#FAILED}
     */
    public Pdu advance() throws PduFormatException {
        requireNotFailed();
        held = null;
        if (needed() > 0) {
            return null;
        }
        try {
            // A read target may span the bytes of several states (BHS + header digest, padding +
            // data digest): step through every state whose bytes are already in.
            Pdu pdu = null;
            while (pdu == null && held == null && needed() == 0) {
                pdu = step();
            }
            return pdu;
        } catch (PduFormatException | RuntimeException e) {
            state = State.FAILED;
            failure = e;
            target = null;
            throw e;
        }
    }

    /**
     * Copies bytes from {@code src} until one PDU is complete or {@code src} is empty. Bytes after
     * a completed PDU stay in {@code src}.
     *
     * @return the completed PDU, or {@code null} when {@code src} ran out first
     */
    public Pdu decode(ByteBuffer src) throws PduFormatException {
        while (src.hasRemaining()) {
            requireNotFailed();
            if (state == State.DATA && target == null) {
                copyData(src);
            } else {
                ByteBuffer into = target;
                int count = Math.min(into.remaining(), src.remaining());
                into.put(into.position(), src, src.position(), count); // absolute: no slice per call
                into.position(into.position() + count);
                src.position(src.position() + count);
            }
            Pdu pdu = advance();
            if (pdu != null || held != null) {
                return pdu;
            }
        }
        return null;
    }

    /**
     * Copies what {@code src} holds of the data segment into its destination, making no view of
     * the destination (a write's immediate data arrives so on iSER, once per command): a bulk copy
     * from a segment over all of {@code src}'s memory, made when a buffer other than the last one
     * comes (a caller that decodes from one buffer, or one view of its receive region, makes it
     * once).
     */
    private void copyData(ByteBuffer src) {
        if (src != copySource) {
            copySource = src;
            copySourceSegment = MemorySegment.ofBuffer(src.duplicate().clear());
        }
        int count = Math.min(dataSegmentLength - dataFilled, src.remaining());
        MemorySegment.copy(copySourceSegment, src.position(), dataDestination, dataFilled, count);
        src.position(src.position() + count);
        dataFilled += count;
    }

    /** Decodes every PDU that {@code src} completes, handing each to {@code sink} as it completes. */
    public void feed(ByteBuffer src, Consumer<? super Pdu> sink) throws PduFormatException {
        while (src.hasRemaining()) {
            Pdu pdu = decode(src);
            if (pdu == null && held == null) {
                return;
            }
            sink.accept(pdu != null ? pdu : held == Opcode.SCSI_COMMAND ? commands.toRecord() : responses.toRecord());
        }
    }

    private void requireNotFailed() {
        if (state == State.FAILED) {
            throw new IllegalStateException("the PDU decoder failed earlier and takes no more input: "
                    + failure.getMessage(), failure);
        }
    }

    private void requireBetweenPdus(String what) {
        requireNotFailed();
        if (state != State.BHS || header.position() != 0) {
            throw new IllegalStateException("the " + what + " can only be switched between PDUs, not in state "
                    + state);
        }
    }

    private Pdu step() throws PduFormatException {
        return switch (state) {
            case BHS -> afterBasicHeader();
            case AHS -> {
                if (headerDigest) {
                    expectHeaderDigest();
                    yield null;
                }
                yield afterHeader();
            }
            case HEADER_DIGEST -> {
                checkHeaderDigest();
                yield afterHeader();
            }
            case DATA -> afterData();
            case PADDING -> {
                if (dataDigest) {
                    state = State.DATA_DIGEST; // its bytes were read with the padding
                    yield null;
                }
                yield complete();
            }
            case DATA_DIGEST -> {
                checkDataDigest();
                yield complete();
            }
            case FAILED -> throw new IllegalStateException("unreachable: FAILED is checked before");
        };
    }

    /** The BHS is in: check everything that decides lengths before reading (or allocating) more. */
    private Pdu afterBasicHeader() throws PduFormatException {
        ahsLength = (header.get(4) & 0xff) * 4;
        if (headerDigestReadWithBhs() && ahsLength == 0) {
            // The digest is already in: a corrupted header is reported as such, not as a bad field.
            checkHeaderDigest();
        }
        int code = header.get(0) & 0x3f;
        opcode = Opcode.fromCode(code);
        if (opcode == null) {
            throw new PduFormatException("Opcode", "Opcode 0x" + Integer.toHexString(code)
                    + " is reserved or vendor specific");
        }
        if (opcode.sender() == localSide) {
            throw new PduFormatException("Opcode", "Opcode 0x" + Integer.toHexString(code) + " (" + opcode
                    + ") is sent by the " + opcode.sender().name().toLowerCase() + ", but this decoder reads what the "
                    + localSide.peer().name().toLowerCase() + " sends");
        }
        if (ahsLength != 0 && opcode != Opcode.SCSI_COMMAND) {
            throw new PduFormatException("TotalAHSLength", "TotalAHSLength " + ahsLength / 4 + " on a " + opcode
                    + " PDU: RFC 7143 defines AHS only for the SCSI Command");
        }
        dataSegmentLength = (header.get(5) & 0xff) << 16 | header.getShort(6) & 0xffff;
        if (dataSegmentLength != 0 && !opcode.carriesData()) {
            throw new PduFormatException("DataSegmentLength", "DataSegmentLength " + dataSegmentLength + " on a "
                    + opcode + " PDU, which has no data segment");
        }
        if (dataSegmentLength > maxRecvDataSegmentLength) {
            throw new PduFormatException("DataSegmentLength", "DataSegmentLength " + dataSegmentLength
                    + " exceeds MaxRecvDataSegmentLength " + maxRecvDataSegmentLength);
        }
        if (ahsLength > 0) {
            state = State.AHS;
            header.limit(BHS_LENGTH + ahsLength);
            return null;
        }
        if (headerDigestReadWithBhs()) {
            return afterHeader(); // digest read and checked with the BHS
        }
        if (headerDigest) {
            expectHeaderDigest();
            return null;
        }
        return afterHeader();
    }

    private void expectHeaderDigest() {
        state = State.HEADER_DIGEST;
        header.limit(BHS_LENGTH + ahsLength + Digests.LENGTH);
    }

    /**
     * Target PDUs never have an AHS (checked after the BHS), so an initiator's decoder reads the
     * header digest together with the BHS: one read less per PDU on the hot Data-In path.
     */
    private boolean headerDigestReadWithBhs() {
        return headerDigest && localSide == Side.INITIATOR;
    }

    private void checkHeaderDigest() throws PduFormatException {
        int covered = BHS_LENGTH + ahsLength;
        crc.reset();
        crc.update(header.array(), 0, covered);
        int expected = (int) crc.getValue();
        int received = Digests.get(header, covered);
        if (expected != received) {
            throw new PduFormatException("HeaderDigest", String.format(
                    "HeaderDigest 0x%08x does not match the CRC32C 0x%08x of the %s header", received, expected,
                    opcode));
        }
    }

    /** Header (and digest) checked: decode its fields, then find room for the data. */
    private Pdu afterHeader() throws PduFormatException {
        if (opcode == Opcode.DATA_IN && dataSegmentLength > 0) {
            // Placed before its record is built, so the record is built once, with its data.
            checkDataInFlags();
            dataDestination = checkedDestination(dataInPlacement.destination(header.getInt(16), header.getInt(36),
                    header.getInt(40), dataSegmentLength), "DataInPlacement", false);
            decodedHeader = decodeFields();
            return expectData();
        }
        decodedHeader = decodeFields();
        if (dataSegmentLength == 0) {
            return complete();
        }
        // No record: a SCSI Command held in the caller's holder (the only held PDU with data).
        dataDestination = checkedDestination(decodedHeader != null ? placement.destination(decodedHeader,
                dataSegmentLength) : placement.commandDestination(commands, dataSegmentLength), "DataPlacement", true);
        return expectData();
    }

    /**
     * What a placement returned, or a heap segment when it left the allocation to the decoder;
     * checked before a byte is copied: writable, and exactly the data segment's size or, where
     * {@code longerAllowed} ({@link DataPlacement}), at least it (the data fills its start).
     */
    private MemorySegment checkedDestination(MemorySegment destination, String placementName, boolean longerAllowed) {
        if (destination == null) {
            return MemorySegment.ofArray(new byte[dataSegmentLength]);
        }
        long size = destination.byteSize();
        if (destination.isReadOnly() || size < dataSegmentLength || (size > dataSegmentLength && !longerAllowed)) {
            throw new IllegalStateException(placementName + " returned a " + (destination.isReadOnly() ? "read-only " : "")
                    + "segment of " + size + " bytes for a data segment of " + dataSegmentLength + " bytes, which needs "
                    + (longerAllowed ? "at least" : "exactly") + " that many writable bytes");
        }
        return destination;
    }

    /** The data segment alone: the destination, or its start when the placement gave a longer one. */
    private MemorySegment placedData() {
        return DataPlacement.leading(dataDestination, dataSegmentLength);
    }

    private Pdu expectData() {
        state = State.DATA;
        dataFilled = 0;
        target = null; // made by readTarget() only if a pull reader asks
        return null;
    }

    private Pdu afterData() {
        int padding = PduEncoder.paddingLength(dataSegmentLength);
        trailer.clear();
        if (padding > 0) {
            expectTrailer(State.PADDING, padding + (dataDigest ? Digests.LENGTH : 0));
            return null;
        }
        if (dataDigest) {
            expectTrailer(State.DATA_DIGEST, Digests.LENGTH);
            return null;
        }
        return complete();
    }

    /** The trailer holds padding then digest; {@code limit} is where the next state's bytes end. */
    private void expectTrailer(State next, int limit) {
        trailer.limit(limit);
        state = next;
        target = trailer;
    }

    private void checkDataDigest() throws PduFormatException {
        int padding = PduEncoder.paddingLength(dataSegmentLength);
        crc.reset();
        crc.update(dataDestination.asByteBuffer().limit(dataSegmentLength));
        crc.update(trailer.array(), 0, padding);
        int expected = (int) crc.getValue();
        int received = Digests.get(trailer, padding);
        if (expected != received) {
            throw new PduFormatException("DataDigest", String.format(
                    "DataDigest 0x%08x does not match the CRC32C 0x%08x of the %s data segment (%d bytes)", received,
                    expected, opcode, dataSegmentLength));
        }
    }

    private Pdu complete() {
        if (decodedHeader == null) {
            held = opcode; // decoded into the holder
            if (opcode == Opcode.SCSI_COMMAND && dataSegmentLength > 0) {
                commands.data(dataDestination, dataSegmentLength);
            }
            expectHeader();
            return null;
        }
        Pdu pdu = dataSegmentLength == 0 || opcode == Opcode.DATA_IN ? decodedHeader
                : decodedHeader.withData(placedData());
        expectHeader();
        return pdu;
    }

    private void expectHeader() {
        state = State.BHS;
        header.clear().limit(BHS_LENGTH + (headerDigestReadWithBhs() ? Digests.LENGTH : 0));
        target = header;
        opcode = null;
        decodedHeader = null;
        dataDestination = null;
    }

    private static boolean flag(int flags, int mask) {
        return (flags & mask) != 0;
    }

    private Pdu decodeFields() throws PduFormatException {
        ByteBuffer b = header;
        int flags = b.get(1) & 0xff;
        int byte2 = b.get(2) & 0xff;
        int byte3 = b.get(3) & 0xff;
        boolean immediate = flag(b.get(0), 0x40);
        boolean finalFlag = flag(flags, 0x80);
        long lun = b.getLong(8);
        int itt = b.getInt(16);
        int field20 = b.getInt(20);
        int field24 = b.getInt(24);
        int field28 = b.getInt(28);
        int field32 = b.getInt(32);
        int field36 = b.getInt(36);
        int field40 = b.getInt(40);
        int field44 = b.getInt(44);
        MemorySegment none = Pdu.NO_DATA;
        return switch (opcode) {
            case NOP_OUT -> new NopOut(immediate, lun, itt, field20, field24, field28, none);
            case SCSI_COMMAND -> decodeScsiCommand();
            case TASK_MANAGEMENT_REQUEST -> {
                var function = CodedValue.find(TaskManagementRequest.Function.class, flags & 0x7f, "Function");
                yield new TaskManagementRequest(immediate, function, lun, itt, field20, field24, field28, field32,
                        field36);
            }
            case LOGIN_REQUEST -> {
                checkLoginFlags(flags);
                yield new LoginRequest(flag(flags, 0x80), flag(flags, 0x40), currentStage(flags), nextStage(flags),
                        byte2, byte3, lun >>> 16, (int) lun & 0xffff, itt, b.getShort(20) & 0xffff, field24, field28,
                        none);
            }
            case TEXT_REQUEST -> new TextRequest(immediate, finalFlag, continueFlag(flags), lun, itt, field20,
                    field24, field28, none);
            case DATA_OUT -> new DataOut(finalFlag, lun, itt, field20, field28, field36, field40, none);
            case LOGOUT_REQUEST -> {
                var reason = CodedValue.find(LogoutRequest.Reason.class, flags & 0x7f, "ReasonCode");
                yield new LogoutRequest(immediate, reason, itt, b.getShort(20) & 0xffff, field24, field28);
            }
            case SNACK_REQUEST -> {
                var type = CodedValue.find(SnackRequest.Type.class, flags & 0x0f, "Type");
                yield new SnackRequest(type, lun, itt, field20, field28, field40, field44);
            }
            case NOP_IN -> new NopIn(lun, itt, field20, field24, field28, field32, none);
            case SCSI_RESPONSE -> {
                responses.fill(b); // one place for the fields, held or a record
                yield holdResponses && dataSegmentLength == 0 ? null : responses.toRecord();
            }
            case TASK_MANAGEMENT_RESPONSE -> {
                var response = CodedValue.find(TaskManagementResponse.Response.class, byte2, "Response");
                yield new TaskManagementResponse(response, itt, field24, field28, field32);
            }
            case LOGIN_RESPONSE -> {
                checkLoginFlags(flags);
                yield new LoginResponse(flag(flags, 0x80), flag(flags, 0x40), currentStage(flags), nextStage(flags),
                        byte2, byte3, lun >>> 16, (int) lun & 0xffff, itt, field24, field28, field32,
                        b.get(36) & 0xff, b.get(37) & 0xff, none);
            }
            case TEXT_RESPONSE -> new TextResponse(finalFlag, continueFlag(flags), lun, itt, field20, field24,
                    field28, field32, none);
            case DATA_IN -> {
                checkDataInFlags();
                // Its data segment is placed before the record is built (see afterHeader).
                yield new DataIn(finalFlag, flag(flags, 0x40), flag(flags, 0x04), flag(flags, 0x02), flag(flags, 0x01),
                        byte3, lun, itt, field20, field24, field28, field32, field36, field40, field44,
                        dataDestination != null ? dataDestination : none);
            }
            case LOGOUT_RESPONSE -> {
                var response = CodedValue.find(LogoutResponse.Response.class, byte2, "Response");
                yield new LogoutResponse(response, itt, field24, field28, field32, b.getShort(40) & 0xffff,
                        b.getShort(42) & 0xffff);
            }
            case R2T -> new ReadyToTransfer(lun, itt, field20, field24, field28, field32, field36, field40,
                    field44);
            case ASYNC_MESSAGE -> {
                var event = CodedValue.find(AsyncMessage.Event.class, b.get(36) & 0xff, "AsyncEvent");
                yield new AsyncMessage(lun, field24, field28, field32, event, b.get(37) & 0xff,
                        b.getShort(38) & 0xffff, b.getShort(40) & 0xffff, b.getShort(42) & 0xffff, none);
            }
            case REJECT -> new Reject(CodedValue.find(Reject.Reason.class, byte2, "Reason"), field24, field28,
                    field32, field36, none);
        };
    }

    private void checkDataInFlags() throws PduFormatException {
        int flags = header.get(1);
        if (flag(flags, 0x01) && !flag(flags, 0x80)) {
            throw new PduFormatException("S", "Data-In has the S bit without the F bit");
        }
    }

    private static LoginStage currentStage(int flags) throws PduFormatException {
        return CodedValue.find(LoginStage.class, flags >> 2 & 3, "CSG");
    }

    private static LoginStage nextStage(int flags) throws PduFormatException {
        return CodedValue.find(LoginStage.class, flags & 3, "NSG");
    }

    private static boolean continueFlag(int flags) throws PduFormatException {
        boolean continueFlag = flag(flags, 0x40);
        if (continueFlag && flag(flags, 0x80)) {
            throw new PduFormatException("C", "F and C bits are both set: a final PDU cannot continue");
        }
        return continueFlag;
    }

    private static void checkLoginFlags(int flags) throws PduFormatException {
        if (flag(flags, 0x80) && flag(flags, 0x40)) {
            throw new PduFormatException("C", "T and C bits are both set: a login PDU cannot transit and continue");
        }
    }

    private ScsiCommand decodeScsiCommand() throws PduFormatException {
        commands.fill(header, ahsLength); // one place for the layout, held or a record
        return holdCommands ? null : commands.toRecord();
    }
}
