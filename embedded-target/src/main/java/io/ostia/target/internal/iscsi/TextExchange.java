package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Side;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.NegotiationException;
import io.ostia.api.text.Negotiator;
import io.ostia.api.text.TextAccumulator;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Text Request / Response in the full feature phase (RFC 7143 §11.10): SendTargets, and an
 * answer for every other key. Long answers go out in pieces with the C bit, each piece asked
 * for by an empty Text Request carrying the Target Transfer Tag.
 */
final class TextExchange {

    private final TextAccumulator accumulator = new TextAccumulator(64 << 10);
    private MemorySegment pendingAnswer;
    private long pendingOffset;
    private int pendingTag = Pdu.RESERVED_TAG;
    private int nextTag = 0x1000;

    /** The responses (StatSN not yet set) to one Text Request, or null when it must be rejected as a protocol error. */
    List<TextResponse> respond(TextRequest request, IscsiConnection connection) {
        int segment = connection.parameters().initiatorMaxRecvDataSegmentLength();
        if (request.targetTransferTag() != Pdu.RESERVED_TAG) {
            if (request.targetTransferTag() != pendingTag || pendingAnswer == null) {
                return reset("Target Transfer Tag 0x" + Integer.toHexString(request.targetTransferTag())
                        + " continues no text answer");
            }
            return List.of(nextPiece(request, segment));
        }
        pendingAnswer = null;
        List<KeyValue> keys;
        try {
            keys = accumulator.append(request.data(), request.continueFlag());
        } catch (TextFormatException e) {
            return reset(e.getMessage());
        }
        if (keys == null) {
            // More text follows: an empty response with F=0 asks for it.
            return List.of(new TextResponse(false, false, request.lun(), request.initiatorTaskTag(), Pdu.RESERVED_TAG,
                    0, 0, 0, Pdu.NO_DATA));
        }
        StringBuilder answer = new StringBuilder();
        List<KeyValue> others = new ArrayList<>();
        for (KeyValue kv : keys) {
            if (kv.key().equals(Keys.SEND_TARGETS)) {
                answer.append(connection.sendTargets(kv.value()));
            } else {
                others.add(kv);
            }
        }
        if (!others.isEmpty()) {
            // Keys in the full feature phase: only what RFC 7143 allows there (a new
            // MaxRecvDataSegmentLength declaration, chiefly); the rest is answered Reject.
            Negotiator negotiator = new Negotiator(Side.TARGET, false,
                    Login.settingsFor(connection.server().settings(), false));
            try {
                others = negotiator.respond(others, LoginStage.FULL_FEATURE_PHASE);
            } catch (NegotiationException e) {
                return reset(e.getMessage());
            }
            // The negotiator only records a declaration whose value is in range.
            negotiator.peerValue(Keys.MAX_RECV_DATA_SEGMENT_LENGTH).ifPresent(value ->
                    connection.initiatorMaxRecvDataSegmentLength((int) TextCodec.parseNumber(value).orElseThrow()));
        }
        byte[] formatted = TextCodec.format(others);
        byte[] sendTargets = answer.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] all = new byte[sendTargets.length + formatted.length];
        System.arraycopy(sendTargets, 0, all, 0, sendTargets.length);
        System.arraycopy(formatted, 0, all, sendTargets.length, formatted.length);
        pendingAnswer = MemorySegment.ofArray(all);
        pendingOffset = 0;
        pendingTag = Pdu.RESERVED_TAG;
        return List.of(nextPiece(request, segment));
    }

    private TextResponse nextPiece(TextRequest request, int segment) {
        long left = pendingAnswer.byteSize() - pendingOffset;
        long n = Math.min(left, segment);
        MemorySegment piece = pendingAnswer.asSlice(pendingOffset, n);
        pendingOffset += n;
        if (pendingOffset == pendingAnswer.byteSize()) {
            pendingAnswer = null;
            pendingTag = Pdu.RESERVED_TAG;
            return new TextResponse(true, false, request.lun(), request.initiatorTaskTag(), Pdu.RESERVED_TAG, 0, 0, 0,
                    piece);
        }
        pendingTag = nextTag++;
        if (pendingTag == Pdu.RESERVED_TAG) {
            pendingTag = nextTag = 0x1000;
        }
        return new TextResponse(false, true, request.lun(), request.initiatorTaskTag(), pendingTag, 0, 0, 0, piece);
    }

    /** Drops the exchange; null tells the connection to answer with a Reject. */
    private List<TextResponse> reset(String why) {
        accumulator.reset();
        pendingAnswer = null;
        pendingTag = Pdu.RESERVED_TAG;
        System.getLogger(TextExchange.class.getName()).log(System.Logger.Level.DEBUG, "text request refused: " + why);
        return null;
    }
}
