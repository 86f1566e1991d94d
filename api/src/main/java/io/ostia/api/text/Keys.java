package io.ostia.api.text;

import io.ostia.api.text.KeyDefinition.Kind;
import io.ostia.api.text.KeyDefinition.Scope;
import io.ostia.api.text.KeyDefinition.Senders;
import io.ostia.api.text.KeyDefinition.Use;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of text keys: every key of RFC 7143 §12-13, the obsolete marker keys of RFC 3720
 * that RFC 3720 peers still send, and the iSER keys of RFC 7145 §6. Private and
 * public-extension keys ({@code X-...}, {@code X#...}) are not registered: they are answered
 * NotUnderstood.
 */
public final class Keys {
    public static final String HEADER_DIGEST = "HeaderDigest";
    public static final String DATA_DIGEST = "DataDigest";
    public static final String MAX_CONNECTIONS = "MaxConnections";
    public static final String SEND_TARGETS = "SendTargets";
    public static final String TARGET_NAME = "TargetName";
    public static final String INITIATOR_NAME = "InitiatorName";
    public static final String TARGET_ALIAS = "TargetAlias";
    public static final String INITIATOR_ALIAS = "InitiatorAlias";
    public static final String TARGET_ADDRESS = "TargetAddress";
    public static final String TARGET_PORTAL_GROUP_TAG = "TargetPortalGroupTag";
    public static final String INITIAL_R2T = "InitialR2T";
    public static final String IMMEDIATE_DATA = "ImmediateData";
    public static final String MAX_RECV_DATA_SEGMENT_LENGTH = "MaxRecvDataSegmentLength";
    public static final String MAX_BURST_LENGTH = "MaxBurstLength";
    public static final String FIRST_BURST_LENGTH = "FirstBurstLength";
    public static final String DEFAULT_TIME_2_WAIT = "DefaultTime2Wait";
    public static final String DEFAULT_TIME_2_RETAIN = "DefaultTime2Retain";
    public static final String MAX_OUTSTANDING_R2T = "MaxOutstandingR2T";
    public static final String DATA_PDU_IN_ORDER = "DataPDUInOrder";
    public static final String DATA_SEQUENCE_IN_ORDER = "DataSequenceInOrder";
    public static final String ERROR_RECOVERY_LEVEL = "ErrorRecoveryLevel";
    public static final String SESSION_TYPE = "SessionType";
    public static final String AUTH_METHOD = "AuthMethod";
    public static final String CHAP_A = "CHAP_A";
    public static final String CHAP_I = "CHAP_I";
    public static final String CHAP_C = "CHAP_C";
    public static final String CHAP_N = "CHAP_N";
    public static final String CHAP_R = "CHAP_R";
    public static final String TASK_REPORTING = "TaskReporting";
    public static final String ISCSI_PROTOCOL_LEVEL = "iSCSIProtocolLevel";
    public static final String IF_MARKER = "IFMarker";
    public static final String OF_MARKER = "OFMarker";
    public static final String IF_MARK_INT = "IFMarkInt";
    public static final String OF_MARK_INT = "OFMarkInt";
    public static final String RDMA_EXTENSIONS = "RDMAExtensions";
    public static final String TARGET_RECV_DATA_SEGMENT_LENGTH = "TargetRecvDataSegmentLength";
    public static final String INITIATOR_RECV_DATA_SEGMENT_LENGTH = "InitiatorRecvDataSegmentLength";
    public static final String MAX_OUTSTANDING_UNEXPECTED_PDUS = "MaxOutstandingUnexpectedPDUs";

    /** Values of the list keys and SessionType. */
    public static final String NONE = "None";
    public static final String CRC32C = "CRC32C";
    public static final String YES = "Yes";
    public static final String NO = "No";
    public static final String DISCOVERY = "Discovery";
    public static final String NORMAL = "Normal";
    public static final String CHAP = "CHAP";

    /** 2^24 - 1, the largest data segment length. */
    private static final long MAX_SEGMENT = 0xff_ffff;
    private static final int SHORT = TextCodec.MAX_VALUE_LENGTH;
    private static final int LONG = TextCodec.MAX_LONG_VALUE_LENGTH;
    private static final List<String> BOOLEAN_VALUES = List.of(YES, NO);

    private static final Map<String, KeyDefinition> DEFINITIONS = new LinkedHashMap<>();

    static {
        List<String> digests = List.of(CRC32C, NONE);
        list(HEADER_DIGEST, Use.INITIALIZE_ONLY, Senders.BOTH, Scope.CONNECTION, NONE, digests, false);
        list(DATA_DIGEST, Use.INITIALIZE_ONLY, Senders.BOTH, Scope.CONNECTION, NONE, digests, false);
        numerical(MAX_CONNECTIONS, Kind.NUMERICAL_MIN, 1, 1, 65535, true);
        add(SEND_TARGETS, Kind.REQUEST, Use.FULL_FEATURE_ONLY, Senders.INITIATOR, Scope.SESSION, null, SHORT);
        // TargetName is declared by the initiator at login and repeated by the target in SendTargets answers.
        add(TARGET_NAME, Kind.DECLARATIVE, Use.ALL, Senders.BOTH, Scope.SESSION, null, SHORT);
        add(INITIATOR_NAME, Kind.DECLARATIVE, Use.INITIALIZE_ONLY, Senders.INITIATOR, Scope.SESSION, null, SHORT);
        add(TARGET_ALIAS, Kind.DECLARATIVE, Use.ALL, Senders.TARGET, Scope.SESSION, null, SHORT);
        add(INITIATOR_ALIAS, Kind.DECLARATIVE, Use.ALL, Senders.INITIATOR, Scope.SESSION, null, SHORT);
        add(TARGET_ADDRESS, Kind.DECLARATIVE, Use.ALL, Senders.TARGET, Scope.SESSION, null, SHORT);
        DEFINITIONS.put(TARGET_PORTAL_GROUP_TAG, new KeyDefinition(TARGET_PORTAL_GROUP_TAG, Kind.DECLARATIVE,
                Use.INITIALIZE_ONLY, Senders.TARGET, Scope.SESSION, null, 0, 65535, List.of(), SHORT, false));
        bool(INITIAL_R2T, Kind.BOOLEAN_OR, Use.LEADING_ONLY, YES);
        bool(IMMEDIATE_DATA, Kind.BOOLEAN_AND, Use.LEADING_ONLY, YES);
        DEFINITIONS.put(MAX_RECV_DATA_SEGMENT_LENGTH, new KeyDefinition(MAX_RECV_DATA_SEGMENT_LENGTH,
                Kind.NUMERICAL_DECLARATIVE, Use.ALL, Senders.BOTH, Scope.CONNECTION, "8192", 512, MAX_SEGMENT,
                List.of(), SHORT, false));
        numerical(MAX_BURST_LENGTH, Kind.NUMERICAL_MIN, 262144, 512,
                MAX_SEGMENT, true);
        numerical(FIRST_BURST_LENGTH, Kind.NUMERICAL_MIN, 65536, 512,
                MAX_SEGMENT, true);
        numerical(DEFAULT_TIME_2_WAIT, Kind.NUMERICAL_MAX, 2, 0, 3600, false);
        numerical(DEFAULT_TIME_2_RETAIN, Kind.NUMERICAL_MIN, 20, 0,
                3600, false);
        numerical(MAX_OUTSTANDING_R2T, Kind.NUMERICAL_MIN, 1, 1,
                65535, true);
        bool(DATA_PDU_IN_ORDER, Kind.BOOLEAN_OR, Use.LEADING_ONLY, YES);
        bool(DATA_SEQUENCE_IN_ORDER, Kind.BOOLEAN_OR, Use.LEADING_ONLY, YES);
        numerical(ERROR_RECOVERY_LEVEL, Kind.NUMERICAL_MIN, 0, 0, 2, false);
        DEFINITIONS.put(SESSION_TYPE, new KeyDefinition(SESSION_TYPE, Kind.DECLARATIVE, Use.LEADING_ONLY,
                Senders.INITIATOR, Scope.SESSION, NORMAL, 0, 0, List.of(DISCOVERY, NORMAL), SHORT, false));
        list(AUTH_METHOD, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, NONE,
                List.of("KRB5", "SRP", "SPKM1", "SPKM2", CHAP, NONE), false);
        add(CHAP_A, Kind.AUTHENTICATION, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, null, SHORT);
        add(CHAP_I, Kind.AUTHENTICATION, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, null, SHORT);
        add(CHAP_C, Kind.AUTHENTICATION, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, null, LONG);
        add(CHAP_N, Kind.AUTHENTICATION, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, null, SHORT);
        add(CHAP_R, Kind.AUTHENTICATION, Use.SECURITY_ONLY, Senders.BOTH, Scope.CONNECTION, null, LONG);
        list(TASK_REPORTING, Use.LEADING_ONLY, Senders.BOTH, Scope.SESSION, "RFC3720",
                List.of("RFC3720", "ResponseFence", "FastAbort"), true);
        // RFC 7144 §13.1: 0..31, minimum; an RFC 7143 implementation that does not send it is at level 1.
        numerical(ISCSI_PROTOCOL_LEVEL, Kind.NUMERICAL_MIN, 1, 0, 31, false);
        // Markers were removed by RFC 7143, but RFC 3720 peers still offer "No": registered as the AND
        // keys they were, that offer decides the result and needs no answer (RFC 7143 §6.2.2).
        markers(IF_MARKER);
        markers(OF_MARKER);
        DEFINITIONS.put(IF_MARK_INT, new KeyDefinition(IF_MARK_INT, Kind.DECLARATIVE, Use.INITIALIZE_ONLY,
                Senders.BOTH, Scope.CONNECTION, "2048~2048", 0, 0, List.of(), SHORT, false));
        DEFINITIONS.put(OF_MARK_INT, new KeyDefinition(OF_MARK_INT, Kind.DECLARATIVE, Use.INITIALIZE_ONLY,
                Senders.BOTH, Scope.CONNECTION, "2048~2048", 0, 0, List.of(), SHORT, false));
        // iSER, RFC 7145 §6.
        // Relevant in discovery too: an iSER portal serves discovery sessions in iSER-assisted mode
        // (open-iscsi offers it on `iscsiadm -m discovery -I iser`, and tgt and Ostia's target require it).
        DEFINITIONS.put(RDMA_EXTENSIONS, new KeyDefinition(RDMA_EXTENSIONS, Kind.BOOLEAN_AND, Use.LEADING_ONLY,
                Senders.BOTH, Scope.SESSION, NO, 0, 0, BOOLEAN_VALUES, SHORT, false));
        DEFINITIONS.put(TARGET_RECV_DATA_SEGMENT_LENGTH, new KeyDefinition(TARGET_RECV_DATA_SEGMENT_LENGTH,
                Kind.NUMERICAL_DECLARATIVE, Use.ALL, Senders.TARGET, Scope.CONNECTION, "8192", 512, MAX_SEGMENT,
                List.of(), SHORT, true));
        DEFINITIONS.put(INITIATOR_RECV_DATA_SEGMENT_LENGTH, new KeyDefinition(INITIATOR_RECV_DATA_SEGMENT_LENGTH,
                Kind.NUMERICAL_DECLARATIVE, Use.ALL, Senders.INITIATOR, Scope.CONNECTION, "8192", 512, MAX_SEGMENT,
                List.of(), SHORT, true));
        // Declarative (RFC 7145 §6.5): each side states how many unexpected PDUs it can take, which
        // sizes the receives the other side must not overrun. 0 means "no limit"; otherwise at least 2.
        DEFINITIONS.put(MAX_OUTSTANDING_UNEXPECTED_PDUS, new KeyDefinition(MAX_OUTSTANDING_UNEXPECTED_PDUS,
                Kind.NUMERICAL_DECLARATIVE, Use.LEADING_ONLY, Senders.BOTH, Scope.SESSION, "0", 0, 0xffff_ffffL,
                List.of(), SHORT, true));
    }

    private Keys() {
    }

    /** The definition of a registered key. */
    public static Optional<KeyDefinition> lookup(String key) {
        return Optional.ofNullable(DEFINITIONS.get(key));
    }

    /** Whether {@code key} is a private or public extension key (X-..., X#...), never understood here. */
    public static boolean isExtension(String key) {
        return key.startsWith("X-") || key.startsWith("X#");
    }

    /** The longest value accepted for a key; unknown keys may be long so that they can be answered NotUnderstood. */
    static int maxValueLength(String key) {
        KeyDefinition definition = DEFINITIONS.get(key);
        return definition == null ? TextCodec.MAX_LONG_VALUE_LENGTH : definition.maxValueLength();
    }

    private static void add(String name, Kind kind, Use use, Senders senders, Scope scope, String defaultValue,
            int maxValueLength) {
        DEFINITIONS.put(name, new KeyDefinition(name, kind, use, senders, scope, defaultValue, 0, 0, List.of(),
                maxValueLength, false));
    }

    private static void list(String name, Use use, Senders senders, Scope scope, String defaultValue,
            List<String> values, boolean irrelevantInDiscovery) {
        DEFINITIONS.put(name, new KeyDefinition(name, Kind.LIST, use, senders, scope, defaultValue, 0, 0, values,
                SHORT, irrelevantInDiscovery));
    }

    /** Every negotiated numerical key of RFC 7143 and RFC 7145 is leading-only, sent by both, session-wide. */
    private static void numerical(String name, Kind kind, long defaultValue, long min, long max,
            boolean irrelevantInDiscovery) {
        DEFINITIONS.put(name, new KeyDefinition(name, kind, Use.LEADING_ONLY, Senders.BOTH, Scope.SESSION,
                Long.toString(defaultValue), min, max, List.of(), SHORT, irrelevantInDiscovery));
    }

    private static void bool(String name, Kind kind, Use use, String defaultValue) {
        DEFINITIONS.put(name, new KeyDefinition(name, kind, use, Senders.BOTH, Scope.SESSION, defaultValue, 0, 0,
                BOOLEAN_VALUES, SHORT, true));
    }

    private static void markers(String name) {
        DEFINITIONS.put(name, new KeyDefinition(name, Kind.BOOLEAN_AND, Use.INITIALIZE_ONLY, Senders.BOTH,
                Scope.CONNECTION, NO, 0, 0, BOOLEAN_VALUES, SHORT, false));
    }
}
