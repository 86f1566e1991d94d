package io.ostia.initiator.internal;

import io.ostia.api.AuthenticationException;
import io.ostia.api.ChapCredentials;
import io.ostia.api.DigestPolicy;
import io.ostia.api.text.TargetAddress;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.LoginException;
import io.ostia.api.ProtocolException;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.auth.ChapInitiator;
import io.ostia.api.auth.ChapSecret;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.LoginStatus;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Side;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportCapability;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.api.text.NegotiationException;
import io.ostia.api.text.Negotiator;
import io.ostia.api.text.TextAccumulator;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One login (RFC 7143 6.3): connect over a transport, security negotiation (None or CHAP,
 * one-way or mutual), operational negotiation, then hand over a connection ready for
 * full-feature phase. Follows target redirections. Everything is bounded by the login timeout.
 */
final class LoginProcess {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_EXCHANGES = 16;
    private static final int MAX_REDIRECTS = 4;
    private static final int LOGIN_TAG = 0;
    private static final int LOGIN_CMDSN = 1;
    /** Login text beyond this is not a login we can use. */
    private static final int MAX_LOGIN_TEXT = 64 * 1024;
    /** The keys a session reports as negotiated. */
    private static final List<String> REPORTED_KEYS = List.of(Keys.HEADER_DIGEST, Keys.DATA_DIGEST,
            Keys.MAX_CONNECTIONS, Keys.INITIAL_R2T, Keys.IMMEDIATE_DATA, Keys.MAX_BURST_LENGTH, Keys.FIRST_BURST_LENGTH,
            Keys.DEFAULT_TIME_2_WAIT, Keys.DEFAULT_TIME_2_RETAIN, Keys.MAX_OUTSTANDING_R2T, Keys.DATA_PDU_IN_ORDER,
            Keys.DATA_SEQUENCE_IN_ORDER, Keys.ERROR_RECOVERY_LEVEL, Keys.RDMA_EXTENSIONS);

    private final IscsiTransport transport;
    private final SessionOptions options;
    private final long isid;
    private final boolean discovery;
    private final long deadline;
    private final Duration limit;

    private SessionConnection connection;
    private Negotiator negotiator;
    private int expStatSN;
    private LoginResponse last;

    private LoginProcess(IscsiTransport transport, SessionOptions options, long isid, boolean discovery,
                         Duration limit) {
        this.transport = transport;
        this.options = options;
        this.isid = isid;
        this.discovery = discovery;
        this.limit = limit.compareTo(options.loginTimeout()) < 0 ? limit : options.loginTimeout();
        this.deadline = System.nanoTime() + this.limit.toNanos();
    }

    /** A redirection (status class 1): where the target says to go instead. */
    private static final class Redirect extends Exception {
        final InetSocketAddress to;

        Redirect(InetSocketAddress to) {
            super(null, null, false, false);
            this.to = to;
        }
    }

    static LoginResult login(IscsiTransport transport, SessionOptions options, long isid, boolean discovery)
            throws IscsiException {
        return login(transport, options, isid, discovery, options.loginTimeout());
    }

    /** The same, all of it within {@code limit} when that is shorter than the login timeout (a recovery's time left). */
    static LoginResult login(IscsiTransport transport, SessionOptions options, long isid, boolean discovery,
                             Duration limit) throws IscsiException {
        LoginProcess process = new LoginProcess(transport, options, isid, discovery, limit);
        InetSocketAddress address = new InetSocketAddress(options.host(), options.port());
        List<InetSocketAddress> visited = new ArrayList<>();
        while (true) {
            visited.add(address);
            try {
                return process.loginAt(address);
            } catch (Redirect r) {
                if (visited.size() > MAX_REDIRECTS || visited.contains(r.to)) {
                    throw new LoginException("login to " + options.targetName().orElse("discovery") + " redirected in a loop: "
                            + visited.stream().map(TargetAddress::of).toList() + " -> " + TargetAddress.of(r.to));
                }
                address = r.to;
            }
        }
    }

    private LoginResult loginAt(InetSocketAddress address) throws IscsiException, Redirect {
        connection = SessionConnection.open(transport, address, options.queueDepth(),
                remaining("connect to " + TargetAddress.of(address)));
        boolean done = false;
        try {
            negotiator = new Negotiator(Side.INITIATOR, true, settings());
            expStatSN = 0;
            securityStage();
            operationalStage();
            NegotiatedParameters parameters;
            try {
                parameters = negotiator.parameters();
            } catch (NegotiationException e) {
                throw new LoginException("login to " + target() + ": " + e.getMessage());
            }
            connection.transportConnection().setParameters(parameters);
            Map<String, String> keys = new LinkedHashMap<>();
            for (String key : REPORTED_KEYS) {
                negotiator.result(key).ifPresent(v -> keys.put(key, v));
            }
            keys.put(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(parameters.initiatorMaxRecvDataSegmentLength()));
            keys.put("TargetMaxRecvDataSegmentLength", Integer.toString(parameters.targetMaxRecvDataSegmentLength()));
            done = true;
            return new LoginResult(connection, parameters, Map.copyOf(keys), last.tsih(), expStatSN, LOGIN_CMDSN,
                    last.maxCmdSN());
        } finally {
            if (!done) {
                connection.release(StopMode.TERMINATE);
            }
        }
    }

    /**
     * Local settings for the negotiator: what this initiator offers and declares. The
     * connection's own keys (its wire's, and limits sized to its buffers) override the session's.
     */
    private Map<String, String> settings() throws TransportException {
        Map<String, String> s = new LinkedHashMap<>();
        s.put(Keys.INITIATOR_NAME, options.initiatorName());
        s.put(Keys.SESSION_TYPE, discovery ? Keys.DISCOVERY : Keys.NORMAL);
        if (!discovery) {
            s.put(Keys.TARGET_NAME, target());
        }
        s.put(Keys.AUTH_METHOD, authMethodOffer());
        s.put(Keys.HEADER_DIGEST, digestOffer(options.headerDigest(), TransportCapability.HEADER_DIGEST, "HeaderDigest"));
        s.put(Keys.DATA_DIGEST, digestOffer(options.dataDigest(), TransportCapability.DATA_DIGEST, "DataDigest"));
        s.put(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(options.maxRecvDataSegmentLength()));
        s.put(Keys.MAX_CONNECTIONS, "1");
        s.put(Keys.INITIAL_R2T, options.initialR2T() ? Keys.YES : Keys.NO);
        s.put(Keys.IMMEDIATE_DATA, options.immediateData() ? Keys.YES : Keys.NO);
        s.put(Keys.MAX_BURST_LENGTH, Integer.toString(options.maxBurstLength()));
        s.put(Keys.FIRST_BURST_LENGTH, Integer.toString(options.firstBurstLength()));
        s.put(Keys.DEFAULT_TIME_2_WAIT, "0"); // ready to log in again at once: the target's value (the larger) rules
        s.put(Keys.DEFAULT_TIME_2_RETAIN, "0");
        s.put(Keys.MAX_OUTSTANDING_R2T, Integer.toString(options.maxOutstandingR2T()));
        s.put(Keys.DATA_PDU_IN_ORDER, Keys.YES);
        s.put(Keys.DATA_SEQUENCE_IN_ORDER, Keys.YES);
        s.put(Keys.ERROR_RECOVERY_LEVEL, "0");
        s.putAll(connection.transportConnection().loginKeys());
        return s;
    }

    private String digestOffer(DigestPolicy policy, TransportCapability needed, String key) throws TransportException {
        if (transport.capabilities().contains(needed)) {
            return policy.offer();
        }
        if (policy == DigestPolicy.REQUIRE_CRC32C) {
            throw new TransportException(key + "=CRC32C is required but the " + transport.name()
                    + " transport does not do digests");
        }
        return Keys.NONE;
    }

    // ---- security negotiation ----

    private void securityStage() throws IscsiException, Redirect {
        List<KeyValue> first = new ArrayList<>(discovery
                ? negotiator.offer(Keys.INITIATOR_NAME, Keys.SESSION_TYPE, Keys.AUTH_METHOD)
                : negotiator.offer(Keys.INITIATOR_NAME, Keys.SESSION_TYPE, Keys.TARGET_NAME, Keys.AUTH_METHOD));
        Optional<ChapCredentials> chap = options.chap();
        if (chap.isEmpty()) {
            List<KeyValue> answer = first;
            for (int i = 0; i < MAX_EXCHANGES; i++) {
                List<KeyValue> received = send(LoginStage.SECURITY_NEGOTIATION, true, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, answer);
                answer = respond(received, LoginStage.SECURITY_NEGOTIATION);
                if (negotiator.peerValue(Keys.AUTH_METHOD).filter(Keys.CHAP::equals).isPresent()) {
                    throw new AuthenticationException("target " + target() + " requires CHAP, and no CHAP credentials were given");
                }
                if (transitTo(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION)) {
                    return;
                }
            }
            throw tooManyExchanges("security");
        }
        List<KeyValue> received = send(LoginStage.SECURITY_NEGOTIATION, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, first);
        List<KeyValue> answer = respond(received, LoginStage.SECURITY_NEGOTIATION);
        String method = negotiator.result(Keys.AUTH_METHOD).or(() -> negotiator.peerValue(Keys.AUTH_METHOD)).orElse("");
        if (discovery && Keys.NONE.equals(method)) {
            // A target without a discovery account took the None we offered beside CHAP.
            finishSecurityStage(answer);
            return;
        }
        if (!Keys.CHAP.equals(method)) {
            throw new AuthenticationException("target " + target() + " answered AuthMethod=" + method
                    + " to an offer of CHAP; refusing to log in without the authentication that was asked for");
        }
        chapExchange(chap.get());
        finishSecurityStage(List.of());
    }

    /**
     * AuthMethod=CHAP for a normal session; CHAP,None for discovery, as libiscsi offers, so that a
     * target with no discovery account (tgtd's default) lets the initiator list its targets.
     */
    private String authMethodOffer() {
        if (options.chap().isEmpty()) {
            return Keys.NONE;
        }
        return discovery ? Keys.CHAP + "," + Keys.NONE : Keys.CHAP;
    }

    private void chapExchange(ChapCredentials credentials) throws IscsiException, Redirect {
        ChapInitiator chapInitiator = new ChapInitiator(ChapSecret.of(credentials.user(), credentials.secret()),
                credentials.targetUser().map(u -> ChapSecret.of(u, credentials.targetSecret().orElseThrow())),
                options.chapAlgorithms(), RANDOM);
        List<KeyValue> received = send(LoginStage.SECURITY_NEGOTIATION, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                chapInitiator.offerAlgorithms());
        List<KeyValue> reply;
        try {
            reply = chapInitiator.respond(value(received, Keys.CHAP_A), value(received, Keys.CHAP_I),
                    value(received, Keys.CHAP_C));
        } catch (AuthenticationException e) {
            throw new AuthenticationException("CHAP with " + target() + ": " + e.getMessage(), e);
        }
        received = send(LoginStage.SECURITY_NEGOTIATION, true, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, reply);
        if (chapInitiator.mutual()) {
            try {
                chapInitiator.verifyTarget(value(received, Keys.CHAP_N), value(received, Keys.CHAP_R));
            } catch (AuthenticationException e) {
                throw new AuthenticationException("mutual CHAP: target " + target() + " failed to authenticate: "
                        + e.getMessage() + "; it may be an impostor or configured with another secret", e);
            }
        }
    }

    /** Asks to leave the security stage (T=1) until the target agrees, answering what it sends. */
    private void finishSecurityStage(List<KeyValue> answer) throws IscsiException, Redirect {
        for (int i = 0; !transitTo(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION); i++) {
            if (i >= MAX_EXCHANGES) {
                throw tooManyExchanges("security");
            }
            List<KeyValue> received = send(LoginStage.SECURITY_NEGOTIATION, true, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, answer);
            answer = respond(received, LoginStage.SECURITY_NEGOTIATION);
        }
    }

    private String value(List<KeyValue> received, String key) throws ProtocolException {
        for (KeyValue kv : received) {
            if (kv.key().equals(key)) {
                return kv.value();
            }
        }
        throw new ProtocolException(key, "target " + target() + " did not send " + key + " during CHAP");
    }

    // ---- operational negotiation ----

    private void operationalStage() throws IscsiException, Redirect {
        List<KeyValue> offer = new ArrayList<>(negotiator.operationalOffers());
        for (int i = 0; i < MAX_EXCHANGES; i++) {
            List<KeyValue> received = send(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, true, LoginStage.FULL_FEATURE_PHASE, offer);
            offer = respond(received, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION);
            if (transitTo(LoginStage.FULL_FEATURE_PHASE)) {
                if (negotiator.hasOutstandingOffers()) {
                    throw new LoginException("target " + target() + " ended the login without answering "
                            + negotiator.outstandingOffers());
                }
                return;
            }
        }
        throw tooManyExchanges("operational");
    }

    private List<KeyValue> respond(List<KeyValue> received, LoginStage stage) throws LoginException {
        try {
            return negotiator.respond(received, stage);
        } catch (NegotiationException e) {
            throw new LoginException("login to " + target() + ": " + e.getMessage());
        }
    }

    private boolean transitTo(LoginStage stage) {
        return last.transit() && last.nextStage() == stage;
    }

    // ---- the exchange of Login PDUs ----

    /**
     * Sends one logical login request (split over several PDUs with C when long) and returns
     * the target's whole answer, gathering continued responses.
     */
    private List<KeyValue> send(LoginStage current, boolean transit, LoginStage next, List<KeyValue> pairs)
            throws IscsiException, Redirect {
        List<LoginRequest> requests = new ArrayList<>();
        List<java.lang.foreign.MemorySegment> parts = TextCodec.split(TextCodec.formatSegment(pairs), 8192);
        for (int i = 0; i < Math.max(1, parts.size()); i++) {
            boolean lastPart = i >= parts.size() - 1;
            requests.add(request(current, lastPart && transit, next, !lastPart,
                    parts.isEmpty() ? Pdu.NO_DATA : parts.get(i)));
        }
        TextAccumulator text = new TextAccumulator(MAX_LOGIN_TEXT);
        for (int i = 0; i < requests.size(); i++) {
            LoginResponse response = exchange(requests.get(i));
            if (i < requests.size() - 1) {
                continue; // the target acknowledges each continued request with an empty response
            }
            while (true) {
                List<KeyValue> complete;
                try {
                    complete = text.append(response.data(), response.continueFlag());
                } catch (TextFormatException e) {
                    throw new ProtocolException("DataSegment", "login response from " + target() + ": " + e.getMessage(), e);
                }
                if (!response.continueFlag()) {
                    return complete;
                }
                response = exchange(request(current, false, next, false, Pdu.NO_DATA));
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private LoginRequest request(LoginStage current, boolean transit, LoginStage next, boolean continued,
                                 java.lang.foreign.MemorySegment data) {
        return new LoginRequest(transit, continued, current, transit ? next : LoginStage.SECURITY_NEGOTIATION, 0, 0, isid,
                0, LOGIN_TAG, 0, LOGIN_CMDSN, expStatSN, data);
    }

    private LoginResponse exchange(LoginRequest request) throws IscsiException, Redirect {
        Pdu answer = connection.exchange(request, remaining("login"));
        if (!(answer instanceof LoginResponse response)) {
            throw new ProtocolException("Opcode", "expected a Login Response from " + target() + ", got " + answer.opcode());
        }
        if (response.initiatorTaskTag() != LOGIN_TAG) {
            throw new ProtocolException("InitiatorTaskTag", String.format(
                    "Login Response carries ITT 0x%08x, the request had 0x%08x", response.initiatorTaskTag(), LOGIN_TAG));
        }
        if (response.statusClass() != LoginStatus.CLASS_SUCCESS) {
            failed(response);
        }
        if (response.isid() != isid) {
            throw new ProtocolException("ISID", String.format("Login Response carries ISID 0x%012x, ours is 0x%012x",
                    response.isid(), isid));
        }
        if (response.versionActive() != 0) {
            throw new LoginException("target " + target() + " chose iSCSI version " + response.versionActive()
                    + ", this initiator speaks version 0 (RFC 7143)");
        }
        expStatSN = response.statSN() + 1;
        last = response;
        return response;
    }

    private void failed(LoginResponse response) throws IscsiException, Redirect {
        int statusClass = response.statusClass();
        int detail = response.statusDetail();
        String description = LoginException.describe(statusClass, detail);
        if (statusClass == LoginStatus.CLASS_REDIRECTION) {
            try {
                for (KeyValue kv : TextCodec.parse(response.data())) {
                    if (kv.key().equals(Keys.TARGET_ADDRESS)) {
                        TargetAddress portal = TargetAddress.parse(kv.value());
                        throw new Redirect(new InetSocketAddress(portal.host(), portal.port()));
                    }
                }
            } catch (TextFormatException | IllegalArgumentException e) {
                throw new ProtocolException(Keys.TARGET_ADDRESS, "redirection from " + target() + " is unreadable: "
                        + e.getMessage(), e);
            }
            throw new ProtocolException(Keys.TARGET_ADDRESS, "redirection from " + target() + " names no TargetAddress");
        }
        String message = "login to " + target() + " at " + TargetAddress.of(connection.endpoint.remoteAddress()) + " failed: " + description;
        if (statusClass == LoginStatus.CLASS_INITIATOR_ERROR && detail == LoginStatus.AUTHENTICATION_FAILURE.statusDetail()) {
            throw new AuthenticationException(message + authenticationHint(), statusClass, detail);
        }
        throw new LoginException(message, statusClass, detail);
    }

    /** What to check after the target refused authentication, from what this login offered. */
    private String authenticationHint() {
        Optional<ChapCredentials> chap = options.chap();
        if (chap.isEmpty()) {
            return " (the target requires authentication)";
        }
        if (chap.get().targetUser().isPresent()) {
            return " (check the CHAP user and secret, and that the target has credentials of its own for mutual"
                    + " CHAP: a target set up for one-way CHAP refuses an initiator that asks it to authenticate)";
        }
        return " (check the CHAP user and secret)";
    }

    private Duration remaining(String what) throws IscsiTimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new IscsiTimeoutException(what + ": the login to " + target() + " did not finish within "
                    + limit.toMillis() + " ms");
        }
        return Duration.ofNanos(left);
    }

    private LoginException tooManyExchanges(String stage) {
        return new LoginException("target " + target() + " did not finish " + stage + " negotiation within "
                + MAX_EXCHANGES + " exchanges");
    }

    private String target() {
        return discovery ? "discovery at " + options.host() + ":" + options.port() : options.targetName().orElseThrow();
    }
}
