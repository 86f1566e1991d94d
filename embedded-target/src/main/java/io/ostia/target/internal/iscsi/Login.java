package io.ostia.target.internal.iscsi;

import io.ostia.api.AuthenticationException;
import io.ostia.api.ChapCredentials;
import io.ostia.api.auth.ChapAlgorithm;
import io.ostia.api.auth.ChapSecret;
import io.ostia.api.auth.ChapTarget;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.LoginStatus;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Side;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.Keys;
import io.ostia.api.text.NegotiatedParameters;
import io.ostia.api.text.NegotiationException;
import io.ostia.api.text.Negotiator;
import io.ostia.api.text.TextAccumulator;
import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The target side of one connection's login (RFC 7143 §6): the stages, the keys (through the
 * api's {@link Negotiator}), CHAP, and the session it ends in. Driven by the connection's
 * receive thread.
 */
final class Login {

    private static final System.Logger LOG = System.getLogger(Login.class.getName());
    /** Refused logins are the peer's doing: logged at most once per interval. */
    private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG, java.time.Duration.ofSeconds(10));

    private final TargetServer server;
    private final IscsiConnection connection;
    private final TextAccumulator text = new TextAccumulator(TextAccumulator.MINIMUM_LIMIT * 8);
    private Negotiator negotiator;
    private boolean first = true;
    private long isid;
    private int tsih;
    private int connectionId;
    private int initiatorTaskTag;
    private LoginStage stage;
    private String initiatorName;
    private TargetNode node;
    private boolean discovery;
    private Optional<ChapCredentials> chap = Optional.empty();
    private ChapTarget chapTarget;
    private boolean challenged;
    private static final SecureRandom RANDOM = new SecureRandom();
    private boolean authenticated;
    private boolean declaredOurs;

    Login(TargetServer server, IscsiConnection connection) {
        this.server = server;
        this.connection = connection;
    }

    /** Thrown to end the login with a status. */
    private static final class LoginFailure extends Exception {
        final LoginStatus status;

        LoginFailure(LoginStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    void handle(LoginRequest request) throws IOException {
        try {
            step(request);
        } catch (LoginFailure failure) {
            fail(request, failure);
        }
    }

    /** The connection closed before login completed. */
    void abandon() {
        server.loginAbandoned(connection);
    }

    private void step(LoginRequest request) throws IOException, LoginFailure {
        if (first) {
            start(request);
        } else if (request.isid() != isid || request.tsih() != tsih || request.connectionId() != connectionId
                || request.initiatorTaskTag() != initiatorTaskTag) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR,
                    "ISID, TSIH, CID or Initiator Task Tag changed in the middle of a login");
        }
        if (request.currentStage() != stage && !(request.currentStage() == LoginStage.LOGIN_OPERATIONAL_NEGOTIATION
                && stage == LoginStage.SECURITY_NEGOTIATION && authenticated)) {
            // Not on the first request: start() took the stage from it.
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, "login request in stage " + request.currentStage()
                    + " while the login is in stage " + stage);
        }
        stage = request.currentStage();
        if (request.currentStage() == LoginStage.FULL_FEATURE_PHASE) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, "CSG cannot be the full feature phase");
        }
        List<KeyValue> keys;
        try {
            keys = text.append(request.data(), request.continueFlag());
        } catch (TextFormatException e) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, "login text: " + e.getMessage());
        }
        if (keys == null) {
            // The initiator continues its text in the next PDU: ask for it with an empty response.
            respond(request, false, stage, LoginStatus.SUCCESS, Pdu.NO_DATA, 0);
            return;
        }
        List<KeyValue> answers = new ArrayList<>();
        if (first) {
            identify(keys, answers);
            Map<String, String> settings = settingsFor(server.settings(), chap.isPresent());
            if (node != null) {
                settings.put(Keys.DEFAULT_TIME_2_WAIT, Integer.toString(node.time2Wait()));
                settings.put(Keys.DEFAULT_TIME_2_RETAIN, Integer.toString(node.time2Retain()));
            }
            settings.putAll(connection.transport().loginKeys());
            negotiator = new Negotiator(Side.TARGET, true, settings);
            first = false;
        }
        if (!declaredOurs && (stage == LoginStage.LOGIN_OPERATIONAL_NEGOTIATION
                || (request.transit() && request.nextStage() == LoginStage.FULL_FEATURE_PHASE))) {
            // Declared before taking the initiator's keys: its own MaxRecvDataSegmentLength
            // declaration settles the key name in the negotiator.
            answers.addAll(negotiator.offer(Keys.MAX_RECV_DATA_SEGMENT_LENGTH));
            if (connection.transport().requiresRdmaExtensions()) {
                answers.addAll(negotiator.offer(Keys.TARGET_RECV_DATA_SEGMENT_LENGTH));
            }
            declaredOurs = true;
        }
        try {
            answers.addAll(0, negotiator.respond(keys, stage));
        } catch (NegotiationException e) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, e.getMessage());
        }
        if (stage == LoginStage.SECURITY_NEGOTIATION) {
            authenticate(keys, answers);
        } else if (chap.isPresent() && !authenticated) {
            throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE,
                    "the target requires CHAP but the initiator skipped the security stage");
        }
        boolean transit = request.transit() && (stage != LoginStage.SECURITY_NEGOTIATION || authenticated);
        LoginStage next = transit ? request.nextStage() : stage;
        if (transit && next.code() <= stage.code()) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, "NSG " + next + " does not follow CSG " + stage);
        }
        if (transit && next == LoginStage.FULL_FEATURE_PHASE) {
            finish(request, answers);
            return;
        }
        respond(request, transit, next, LoginStatus.SUCCESS, TextCodec.formatSegment(answers), 0);
    }

    private void start(LoginRequest request) throws LoginFailure {
        isid = request.isid();
        tsih = request.tsih();
        connectionId = request.connectionId();
        initiatorTaskTag = request.initiatorTaskTag();
        stage = request.currentStage();
        connection.startStatSN(1);
        if (request.versionMin() > 0) {
            throw new LoginFailure(LoginStatus.UNSUPPORTED_VERSION, "the initiator needs iSCSI version "
                    + request.versionMin() + " or later; this target speaks version 0 (RFC 7143)");
        }
        if (tsih != 0) {
            // Sessions have one connection (MaxConnections=1): no connection can join an existing session.
            throw new LoginFailure(server.hasSession(tsih) ? LoginStatus.TOO_MANY_CONNECTIONS
                    : LoginStatus.SESSION_DOES_NOT_EXIST, "login to add a connection to session TSIH " + tsih
                    + ": sessions of this target have one connection");
        }
    }

    private static Optional<String> first(List<KeyValue> keys, String key) {
        return keys.stream().filter(k -> k.key().equals(key)).map(KeyValue::value).findFirst();
    }

    /**
     * Reads InitiatorName, SessionType and TargetName from the first request: they decide which
     * target (and so which authentication) the rest of the login is about.
     */
    private void identify(List<KeyValue> keys, List<KeyValue> answers) throws LoginFailure {
        initiatorName = first(keys, Keys.INITIATOR_NAME).orElseThrow(() -> new LoginFailure(
                LoginStatus.MISSING_PARAMETER, "the first login request has no InitiatorName"));
        String sessionType = first(keys, Keys.SESSION_TYPE).orElse(Keys.NORMAL);
        if (!sessionType.equals(Keys.NORMAL) && !sessionType.equals(Keys.DISCOVERY)) {
            throw new LoginFailure(LoginStatus.SESSION_TYPE_NOT_SUPPORTED, "SessionType=" + sessionType);
        }
        discovery = sessionType.equals(Keys.DISCOVERY);
        if (discovery) {
            chap = server.settings().discoveryChap();
        } else {
            String targetName = first(keys, Keys.TARGET_NAME).orElseThrow(() -> new LoginFailure(
                    LoginStatus.MISSING_PARAMETER, "a normal session login without TargetName"));
            node = server.node(targetName);
            if (node == null) {
                throw new LoginFailure(LoginStatus.NOT_FOUND, "no target named " + targetName + " here");
            }
            chap = node.chap();
            answers.add(new KeyValue(Keys.TARGET_PORTAL_GROUP_TAG, Integer.toString(TargetServer.TPGT)));
            if (node.alias() != null && !node.alias().isEmpty()) {
                answers.add(new KeyValue(Keys.TARGET_ALIAS, node.alias()));
            }
        }
    }

    private void authenticate(List<KeyValue> keys, List<KeyValue> answers) throws LoginFailure {
        if (authenticated) {
            return;
        }
        boolean offeredMethod = keys.stream().anyMatch(k -> k.key().equals(Keys.AUTH_METHOD));
        if (offeredMethod) {
            String method = negotiator.result(Keys.AUTH_METHOD).orElse(KeyValue.REJECT);
            if (chap.isPresent() && !method.equals(Keys.CHAP)) {
                throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE,
                        "the target requires CHAP; the initiator offered " + valueOf(keys, Keys.AUTH_METHOD));
            }
            if (chap.isEmpty()) {
                if (!method.equals(Keys.NONE)) {
                    // RFC 7143 §12: an initiator offering only methods we do not run cannot log in.
                    throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE,
                            "the target takes AuthMethod=None; the initiator offered " + valueOf(keys, Keys.AUTH_METHOD));
                }
                authenticated = true;
                return;
            }
            ChapCredentials credentials = chap.get();
            chapTarget = new ChapTarget(
                    name -> name.equals(credentials.user())
                            ? Optional.of(ChapSecret.of(name, credentials.secret())) : Optional.empty(),
                    credentials.targetUser().map(user -> ChapSecret.of(user, credentials.targetSecret().orElseThrow())),
                    List.of(ChapAlgorithm.values()), RANDOM);
        } else if (chap.isEmpty()) {
            authenticated = true; // AuthMethod not offered: None by default
            return;
        }
        if (chapTarget == null) {
            throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE, "CHAP keys before AuthMethod=CHAP was agreed");
        }
        try {
            if (!challenged) {
                Optional<String> chapA = first(keys, Keys.CHAP_A);
                if (chapA.isEmpty()) {
                    if (first(keys, Keys.CHAP_N).isPresent() || first(keys, Keys.CHAP_R).isPresent()) {
                        throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE, "CHAP_N/CHAP_R before CHAP_A");
                    }
                    return; // AuthMethod agreed; CHAP_A comes in the next request
                }
                answers.addAll(chapTarget.challenge(chapA.get()));
                challenged = true;
                return;
            }
            String throttleKey = ChapThrottle.key(initiatorName, connection.transport().remoteAddress());
            awaitChapTurn(throttleKey);
            try {
                answers.addAll(chapTarget.verify(first(keys, Keys.CHAP_N).orElse(null),
                        first(keys, Keys.CHAP_R).orElse(null), first(keys, Keys.CHAP_I).orElse(null),
                        first(keys, Keys.CHAP_C).orElse(null)));
            } catch (AuthenticationException e) {
                server.chapThrottle().failed(throttleKey);
                throw e;
            }
            server.chapThrottle().succeeded(throttleKey);
            authenticated = true;
        } catch (AuthenticationException e) {
            throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE, e.getMessage());
        }
    }

    /** Waits while failed CHAP attempts from this initiator and address are throttled (see {@link ChapThrottle}). */
    private void awaitChapTurn(String throttleKey) throws LoginFailure {
        boolean turn;
        try {
            turn = server.chapThrottle().awaitTurn(throttleKey);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            turn = false;
        }
        if (!turn) {
            throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILURE, "CHAP attempts from " + throttleKey
                    + " are throttled after failures; try again later");
        }
    }

    private static String valueOf(List<KeyValue> keys, String key) {
        return first(keys, key).orElse("nothing");
    }

    private void finish(LoginRequest request, List<KeyValue> answers) throws IOException, LoginFailure {
        NegotiatedParameters negotiated;
        try {
            negotiated = negotiator.parameters();
        } catch (NegotiationException e) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, e.getMessage());
        }
        // Linux's ib_iser runs discovery over iSER without RDMAExtensions (open-iscsi offers the key
        // only in normal sessions), as isert allows: a discovery session moves no data, and its
        // Text and Logout PDUs travel by Send in either mode.
        boolean iser = connection.transport().requiresRdmaExtensions() && negotiated.rdmaExtensions();
        if (connection.transport().requiresRdmaExtensions() && !iser && !discovery) {
            throw new LoginFailure(LoginStatus.INITIATOR_ERROR, "this is an iSER portal: a normal session must negotiate "
                    + Keys.RDMA_EXTENSIONS + "=" + Keys.YES + " (RFC 7145 §6.3)");
        }
        // In iSER-assisted mode the iSER keys replace MaxRecvDataSegmentLength (RFC 7145 §6.4).
        SessionParameters parameters = new SessionParameters(
                iser ? negotiated.initiatorRecvDataSegmentLength() : negotiated.initiatorMaxRecvDataSegmentLength(),
                // What this connection declared: over iSER its receive buffers, not the target's setting.
                iser ? negotiated.targetRecvDataSegmentLength() : negotiated.maxRecvDataSegmentLength(Side.TARGET),
                negotiated.maxBurstLength(), negotiated.firstBurstLength(),
                negotiated.immediateData(), negotiated.initialR2T(), negotiated.maxOutstandingR2T(),
                negotiated.headerDigest(), negotiated.dataDigest(), negotiated.defaultTime2Wait(),
                negotiated.defaultTime2Retain());
        TargetSession session = server.createSession(node, initiatorName, isid, request.cmdSN(), connection);
        tsih = session.tsih();
        respond(request, true, LoginStage.FULL_FEATURE_PHASE, LoginStatus.SUCCESS, TextCodec.formatSegment(answers),
                session.tsih());
        connection.transport().flush();
        connection.enterFullFeature(session, parameters);
        LOG.log(Level.DEBUG, "login complete: " + session + " from " + connection.transport().remoteAddress());
    }

    private void respond(LoginRequest request, boolean transit, LoginStage next, LoginStatus status,
                         MemorySegment data, int responseTsih) throws IOException {
        int window = server.settings().commandWindow();
        connection.sendNumbered(sn -> new LoginResponse(transit, false, request.currentStage(), next, 0, 0,
                request.isid(), responseTsih, request.initiatorTaskTag(), sn, request.cmdSN(),
                request.cmdSN() + window - 1, status.statusClass(), status.statusDetail(), data), true);
    }

    private void fail(LoginRequest request, LoginFailure failure) throws IOException {
        REFUSALS.log(Level.INFO, "login from " + connection.transport().remoteAddress()
                + (initiatorName == null ? "" : " (" + initiatorName + ")") + " refused, " + failure.status + ": "
                + failure.getMessage());
        respond(request, false, request.currentStage(), failure.status, Pdu.NO_DATA, 0);
        connection.transport().flush();
        connection.transport().close();
    }

    /** Local key settings for the negotiator, from the server's settings. */
    static Map<String, String> settingsFor(TargetServer.Settings s, boolean chapRequired) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Keys.HEADER_DIGEST, Keys.CRC32C + "," + Keys.NONE);
        m.put(Keys.DATA_DIGEST, Keys.CRC32C + "," + Keys.NONE);
        m.put(Keys.MAX_CONNECTIONS, "1");
        m.put(Keys.INITIAL_R2T, Keys.NO);
        m.put(Keys.IMMEDIATE_DATA, Keys.YES);
        m.put(Keys.MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(s.maxRecvDataSegmentLength()));
        m.put(Keys.MAX_BURST_LENGTH, Integer.toString(s.maxBurstLength()));
        m.put(Keys.FIRST_BURST_LENGTH, Integer.toString(s.firstBurstLength()));
        m.put(Keys.DEFAULT_TIME_2_WAIT, "0");
        m.put(Keys.DEFAULT_TIME_2_RETAIN, "0");
        m.put(Keys.MAX_OUTSTANDING_R2T, Integer.toString(s.maxOutstandingR2T()));
        m.put(Keys.DATA_PDU_IN_ORDER, Keys.YES);
        m.put(Keys.DATA_SEQUENCE_IN_ORDER, Keys.YES);
        m.put(Keys.ERROR_RECOVERY_LEVEL, "0");
        m.put(Keys.AUTH_METHOD, chapRequired ? Keys.CHAP : Keys.NONE);
        return m;
    }
}
