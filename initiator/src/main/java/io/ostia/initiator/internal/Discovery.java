package io.ostia.initiator.internal;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.IscsiException;
import io.ostia.api.LoginException;
import io.ostia.api.ProtocolException;
import io.ostia.api.SessionOptions;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.TextRequest;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.spi.StopMode;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.TextAccumulator;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;

/** SendTargets=All over a logged-in discovery session (RFC 7143 appendix C), then logout. */
final class Discovery {

    /** Bounds the reply: a target listing more than this much text is not one we can use. */
    private static final int MAX_REPLY_BYTES = 1 << 20;

    private Discovery() {
    }

    static List<DiscoveredTarget> sendTargets(LoginResult login, SessionOptions options) throws IscsiException {
        SessionConnection conn = login.connection();
        try {
            conn.startForDiscovery(login.expStatSN());
            List<KeyValue> reply = exchangeText(conn, login, options);
            List<DiscoveredTarget> targets = parse(reply);
            logout(conn, login, options);
            return targets;
        } finally {
            conn.release(StopMode.TERMINATE);
        }
    }

    private static List<KeyValue> exchangeText(SessionConnection conn, LoginResult login, SessionOptions options)
            throws IscsiException {
        TextAccumulator reply = new TextAccumulator(MAX_REPLY_BYTES);
        int itt = 1;
        int ttt = Pdu.RESERVED_TAG;
        var request = TextCodec.formatSegment(List.of(new KeyValue("SendTargets", "All")));
        while (true) {
            Pdu answer = exchange(conn, login, new TextRequest(true, true, false, 0, itt, ttt, login.cmdSN(),
                    conn.expStatSN(), request), options);
            if (!(answer instanceof TextResponse text)) {
                throw new ProtocolException("Opcode", "expected a Text Response to SendTargets, got " + answer.opcode());
            }
            conn.statSNReceived(text.statSN());
            if (text.initiatorTaskTag() != itt) {
                throw new ProtocolException("InitiatorTaskTag", String.format(
                        "Text Response carries ITT 0x%08x, the request had 0x%08x", text.initiatorTaskTag(), itt));
            }
            try {
                List<KeyValue> complete = reply.append(text.data(), text.continueFlag());
                if (text.finalFlag()) {
                    return complete;
                }
            } catch (TextFormatException e) {
                throw new ProtocolException("DataSegment", "SendTargets reply: " + e.getMessage(), e);
            }
            // More to come: ask for it with the target's TTT and an empty request.
            ttt = text.targetTransferTag();
            request = Pdu.NO_DATA;
        }
    }

    /**
     * Sends {@code request} and returns the target's answer, answering NOP-In pings that come
     * first: a discovery session is in full feature phase, and tgtd pings its iSER connections
     * every 5 s. All within the login timeout.
     */
    private static Pdu exchange(SessionConnection conn, LoginResult login, Pdu request, SessionOptions options)
            throws IscsiException {
        long deadline = System.nanoTime() + options.loginTimeout().toNanos();
        Pdu answer = conn.exchange(request, options.loginTimeout());
        while (answer instanceof NopIn ping) {
            if (ping.targetTransferTag() != Pdu.RESERVED_TAG) {
                MemorySegment echo = ping.data().byteSize() == 0 ? Pdu.NO_DATA
                        : MemorySegment.ofArray(ping.data().toArray(ValueLayout.JAVA_BYTE));
                conn.send(new NopOut(true, ping.lun(), Pdu.RESERVED_TAG, ping.targetTransferTag(), login.cmdSN(),
                        conn.expStatSN(), echo));
            }
            answer = conn.next(request, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        }
        return answer;
    }

    static List<DiscoveredTarget> parse(List<KeyValue> reply) throws ProtocolException {
        try {
            return DiscoveredTarget.fromSendTargets(reply);
        } catch (TextFormatException e) {
            throw new ProtocolException(e.key(),
                    "SendTargets reply: " + e.getMessage(), e);
        }
    }

    private static void logout(SessionConnection conn, LoginResult login, SessionOptions options) throws IscsiException {
        Pdu answer = exchange(conn, login, new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, 2, 0,
                login.cmdSN(), conn.expStatSN()), options);
        if (!(answer instanceof LogoutResponse r) || r.response() != LogoutResponse.Response.CLOSED_SUCCESSFULLY) {
            throw new LoginException("discovery logout answered " + answer);
        }
    }
}
