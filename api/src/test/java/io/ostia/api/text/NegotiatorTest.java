package io.ostia.api.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Side;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NegotiatorTest {
    private static final LoginStage OPERATIONAL = LoginStage.LOGIN_OPERATIONAL_NEGOTIATION;

    /** libiscsi 1.19's operational offer, as captured in golden/inquiry-header-digest.txt. */
    private static final String LIBISCSI_OFFER = "HeaderDigest=None,CRC32C DataDigest=None InitialR2T=No"
            + " ImmediateData=Yes MaxBurstLength=262144 FirstBurstLength=262144 DefaultTime2Wait=2"
            + " DefaultTime2Retain=0 MaxOutstandingR2T=1 ErrorRecoveryLevel=0 IFMarker=No OFMarker=No MaxConnections=1"
            + " MaxRecvDataSegmentLength=262144 DataPDUInOrder=Yes DataSequenceInOrder=Yes";
    /** tgtd 1.0.85's answer to it (FirstBurstLength 512, MaxBurstLength 1024, MaxRecvDataSegmentLength 1024). */
    private static final String TGTD_ANSWER = "HeaderDigest=None DataDigest=None InitialR2T=Yes ImmediateData=Yes"
            + " MaxBurstLength=1024 FirstBurstLength=512 DefaultTime2Wait=2 DefaultTime2Retain=0 MaxOutstandingR2T=1"
            + " ErrorRecoveryLevel=0 IFMarker=No OFMarker=No MaxConnections=1 DataPDUInOrder=Yes"
            + " DataSequenceInOrder=Yes";

    private static List<KeyValue> pairs(String text) {
        return Arrays.stream(text.split(" ")).filter(p -> !p.isEmpty()).map(p -> p.split("=", 2)).map(p -> new KeyValue(p[0], p[1])).toList();
    }

    private static Map<String, String> settings(String text) {
        return pairs(text).stream().collect(Collectors.toMap(KeyValue::key, KeyValue::value, (a, b) -> b,
                LinkedHashMap::new));
    }

    private static Negotiator target(String settings) {
        return new Negotiator(Side.TARGET, true, settings(settings));
    }

    private static String answer(Negotiator negotiator, String offer) throws NegotiationException {
        return negotiator.respond(pairs(offer), OPERATIONAL).stream().map(KeyValue::toString)
                .collect(Collectors.joining(" "));
    }

    /**
     * tgtd's answer less the offers that decide their own result (RFC 7143 §6.2.2: OR key offered
     * Yes, AND key offered No), which Ostia's target leaves unanswered.
     */
    private static final String OSTIA_ANSWER = "HeaderDigest=None DataDigest=None InitialR2T=Yes ImmediateData=Yes"
            + " MaxBurstLength=1024 FirstBurstLength=512 DefaultTime2Wait=2 DefaultTime2Retain=0 MaxOutstandingR2T=1"
            + " ErrorRecoveryLevel=0 MaxConnections=1";

    @Test
    void answersLibiscsiAsTgtdDidLessTheOptionalAnswers() throws NegotiationException {
        Negotiator target = target("HeaderDigest=None DataDigest=None InitialR2T=Yes ImmediateData=Yes"
                + " MaxBurstLength=1024 FirstBurstLength=512 DefaultTime2Retain=0 MaxRecvDataSegmentLength=1024");
        List<KeyValue> answers = target.respond(pairs(LIBISCSI_OFFER), OPERATIONAL);
        assertEquals(pairs(OSTIA_ANSWER), answers);
        assertEquals(List.of(new KeyValue("MaxRecvDataSegmentLength", "1024")),
                target.offer(Keys.MAX_RECV_DATA_SEGMENT_LENGTH));
        NegotiatedParameters parameters = target.parameters();
        assertEquals(262144, parameters.initiatorMaxRecvDataSegmentLength());
        assertEquals(1024, parameters.targetMaxRecvDataSegmentLength());
        assertEquals(262144, parameters.maxSendDataSegmentLength(Side.TARGET));
        assertEquals(512, parameters.firstBurstLength());
    }

    @Test
    void initiatorAcceptsTgtdsAnswersAndGetsTypedParameters() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, settings(LIBISCSI_OFFER + " SessionType=Normal"));
        List<KeyValue> offers = initiator.operationalOffers();
        assertEquals(pairs(LIBISCSI_OFFER + " SessionType=Normal"), offers);
        assertEquals(List.of(), initiator.respond(pairs(TGTD_ANSWER + " MaxRecvDataSegmentLength=1024"
                + " TargetPortalGroupTag=1"), OPERATIONAL));
        assertFalse(initiator.hasOutstandingOffers());
        NegotiatedParameters parameters = initiator.parameters();
        assertEquals(new NegotiatedParameters(false, false, 262144, 1024, 1024, 512, true, true, 1, true, true, 0, 2, 0,
                1, false, 8192, 8192, 0, 0, 1), parameters);
        assertEquals("1", initiator.peerValue(Keys.TARGET_PORTAL_GROUP_TAG).orElseThrow());
        assertEquals(1024, parameters.maxSendDataSegmentLength(Side.INITIATOR));
    }

    @Test
    void defaultsWhenNothingIsNegotiated() throws NegotiationException {
        assertEquals(NegotiatedParameters.DEFAULTS, new Negotiator(Side.INITIATOR, true, Map.of()).parameters());
    }

    @Test
    void booleanResultFunctions() throws NegotiationException {
        assertEquals("ImmediateData=No", answer(target("ImmediateData=No"), "ImmediateData=Yes"));
        assertEquals("ImmediateData=Yes", answer(target("ImmediateData=Yes"), "ImmediateData=Yes"));
        assertEquals("InitialR2T=Yes", answer(target("InitialR2T=Yes"), "InitialR2T=No"));
        assertEquals("InitialR2T=No", answer(target("InitialR2T=No"), "InitialR2T=No"));
        assertEquals("InitialR2T=Reject", answer(target("InitialR2T=No"), "InitialR2T=yes"), "values are case sensitive");
    }

    @Test
    void targetLeavesOffersThatDecideTheirResultUnanswered() throws NegotiationException {
        Negotiator target = target("ImmediateData=Yes InitialR2T=No DataPDUInOrder=No IFMarker=No");
        assertEquals("", answer(target, "ImmediateData=No InitialR2T=Yes DataPDUInOrder=Yes"
                + " DataSequenceInOrder=Yes IFMarker=No OFMarker=No RDMAExtensions=No"));
        NegotiatedParameters parameters = target.parameters();
        assertFalse(parameters.immediateData(), "AND offered No: the result is No");
        assertTrue(parameters.initialR2T(), "OR offered Yes: the result is Yes");
        assertTrue(parameters.dataPduInOrder());
        assertFalse(parameters.rdmaExtensions());
        assertEquals("No", target.result(Keys.IMMEDIATE_DATA).orElseThrow());
    }

    @Test
    void initiatorNeedsNoAnswerToOffersThatDecideTheirResult() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, settings("SessionType=Normal ImmediateData=No"
                + " InitialR2T=Yes DataPDUInOrder=Yes DataSequenceInOrder=Yes MaxBurstLength=65536 FirstBurstLength=4096"
                + " MaxRecvDataSegmentLength=65536"));
        initiator.operationalOffers();
        assertEquals(java.util.Set.of("MaxBurstLength", "FirstBurstLength"), initiator.outstandingOffers(),
                "a declaration awaits no answer, nor does an offer that decides its result");
        assertEquals(List.of(), initiator.respond(pairs("MaxBurstLength=4096 FirstBurstLength=4096"), OPERATIONAL));
        assertFalse(initiator.hasOutstandingOffers());
        NegotiatedParameters parameters = initiator.parameters();
        assertFalse(parameters.immediateData());
        assertTrue(parameters.initialR2T());
        assertTrue(parameters.dataPduInOrder());
        assertTrue(parameters.dataSequenceInOrder());
        assertEquals(4096, parameters.maxBurstLength());
    }

    @Test
    void initiatorStillAnswersTheTargetsOffersThatDecideTheirResult() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of());
        assertEquals("DataPDUInOrder=Yes ImmediateData=No",
                answer(initiator, "DataPDUInOrder=Yes ImmediateData=No"));
    }

    @Test
    void numericalResultFunctions() throws NegotiationException {
        assertEquals("MaxBurstLength=16384", answer(target("MaxBurstLength=16384"), "MaxBurstLength=0x40000"));
        assertEquals("DefaultTime2Wait=5", answer(target("DefaultTime2Wait=5"), "DefaultTime2Wait=2"));
        assertEquals("MaxBurstLength=Reject", answer(target(""), "MaxBurstLength=511"), "below the range");
        assertEquals("MaxBurstLength=Reject", answer(target(""), "MaxBurstLength=16777216"), "above the range");
        assertEquals("ErrorRecoveryLevel=Reject", answer(target(""), "ErrorRecoveryLevel=three"));
        assertEquals("ErrorRecoveryLevel=0", answer(target(""), "ErrorRecoveryLevel=2"), "local default 0 wins");
    }

    @Test
    void listSelectsTheFirstOfferedValueThatIsAcceptable() throws NegotiationException {
        assertEquals("HeaderDigest=CRC32C", answer(target("HeaderDigest=None,CRC32C"), "HeaderDigest=CRC32C,None"));
        assertEquals("HeaderDigest=None", answer(target("HeaderDigest=CRC32C,None"), "HeaderDigest=None,CRC32C"));
        assertEquals("HeaderDigest=Reject", answer(target("HeaderDigest=CRC32C"), "HeaderDigest=None"));
        assertEquals("DataDigest=CRC32C", answer(target("DataDigest=CRC32C"), "DataDigest=MD5,CRC32C"),
                "unknown values are skipped");
        assertEquals("AuthMethod=CHAP", new Negotiator(Side.TARGET, true, Map.of("AuthMethod", "CHAP"))
                .respond(pairs("AuthMethod=CHAP,None"), LoginStage.SECURITY_NEGOTIATION).getFirst().toString());
    }

    @Test
    void unknownAndPrivateKeysAreNotUnderstood() throws NegotiationException {
        assertEquals("X-com.example.Feature=NotUnderstood X#FooBar=NotUnderstood Frobnicate=NotUnderstood",
                answer(target(""), "X-com.example.Feature=Yes X#FooBar=1 Frobnicate=7"));
    }

    @Test
    void discoverySessionsAnswerIrrelevant() throws NegotiationException {
        Negotiator target = target("");
        assertEquals("MaxBurstLength=Irrelevant InitialR2T=Irrelevant ErrorRecoveryLevel=0",
                answer(target, "SessionType=Discovery MaxBurstLength=8192 InitialR2T=No ErrorRecoveryLevel=0"));
        assertTrue(target.discovery());
        Negotiator initiator = new Negotiator(Side.INITIATOR, true,
                settings("SessionType=Discovery MaxBurstLength=8192 HeaderDigest=None"));
        assertEquals(pairs("SessionType=Discovery HeaderDigest=None"), initiator.operationalOffers());
    }

    @Test
    void keysOutOfPlaceAreRejected() throws NegotiationException {
        assertEquals("TargetAlias=Reject", answer(target(""), "TargetAlias=disk"), "only a target declares its alias");
        assertEquals("AuthMethod=Reject", answer(target(""), "AuthMethod=None"), "security keys after security");
        assertEquals("MaxBurstLength=Reject", new Negotiator(Side.TARGET, false, Map.of())
                .respond(pairs("MaxBurstLength=8192"), OPERATIONAL).getFirst().toString(), "LO on a second connection");
        assertEquals("SendTargets=Reject", answer(target(""), "SendTargets=All"), "SendTargets is for full feature");
        assertEquals(List.of(), target("").respond(pairs("SendTargets=All"), LoginStage.FULL_FEATURE_PHASE));
    }

    @Test
    void answersThatBreakTheResultFunctionFailTheLogin() {
        assertBroken("MaxBurstLength=8192", "MaxBurstLength=16384", "breaks the minimum (in 512..16777215) rule");
        assertBroken("DefaultTime2Wait=5", "DefaultTime2Wait=2", "breaks the maximum (in 0..3600) rule");
        assertBroken("ImmediateData=No", "ImmediateData=Yes", "breaks the AND rule");
        assertBroken("InitialR2T=Yes", "InitialR2T=No", "breaks the OR rule");
        assertBroken("HeaderDigest=None", "HeaderDigest=CRC32C", "breaks the first acceptable value");
        assertBroken("HeaderDigest=CRC32C,None", "HeaderDigest=CRC32C,None", "breaks the first acceptable value");
    }

    private static void assertBroken(String offer, String answer, String expected) {
        KeyValue offered = pairs(offer).getFirst();
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of(offered.key(), offered.value()));
        initiator.offer(offered.key());
        NegotiationException failure = assertThrows(NegotiationException.class,
                () -> initiator.respond(pairs(answer), OPERATIONAL));
        assertEquals(offered.key(), failure.key());
        assertTrue(failure.getMessage().contains(expected), failure.getMessage());
    }

    @Test
    void rejectedOrNotUnderstoodOffersKeepTheDefault() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true,
                Map.of("MaxBurstLength", "8192", "HeaderDigest", "CRC32C"));
        initiator.operationalOffers();
        initiator.respond(pairs("MaxBurstLength=Reject HeaderDigest=NotUnderstood"), OPERATIONAL);
        assertEquals(262144, initiator.parameters().maxBurstLength());
        assertFalse(initiator.parameters().headerDigest());
    }

    @Test
    void negotiatingAKeyTwiceFails() throws NegotiationException {
        Negotiator target = target("");
        target.respond(pairs("MaxBurstLength=8192"), OPERATIONAL);
        NegotiationException failure = assertThrows(NegotiationException.class,
                () -> target.respond(pairs("MaxBurstLength=4096"), OPERATIONAL));
        assertEquals("MaxBurstLength", failure.key());
        assertThrows(NegotiationException.class, () -> target.respond(pairs("ImmediateData=Reject"), OPERATIONAL),
                "an answer to nothing");
    }

    @Test
    void aDeclarationRepeatedWithTheSameValueIsTakenAndOneWithAnotherIsNot() throws NegotiationException {
        Negotiator target = target("");
        LoginStage security = LoginStage.SECURITY_NEGOTIATION;
        target.respond(pairs("InitiatorName=iqn.2026-01.io.x:a SessionType=Discovery AuthMethod=None"), security);
        assertEquals(List.of(), target.respond(pairs("InitiatorName=iqn.2026-01.io.x:a"), security),
                "libiscsi repeats InitiatorName after AuthMethod=None");
        NegotiationException changed = assertThrows(NegotiationException.class,
                () -> target.respond(pairs("InitiatorName=iqn.2026-01.io.x:b"), security));
        assertEquals("InitiatorName", changed.key());
    }

    @Test
    void firstBurstMayNotExceedMaxBurst() throws NegotiationException {
        assertThrows(IllegalArgumentException.class,
                () -> new Negotiator(Side.TARGET, true, Map.of("FirstBurstLength", "65536", "MaxBurstLength", "4096")));
        Negotiator target = target("MaxBurstLength=300000");
        assertEquals("FirstBurstLength=16384 MaxBurstLength=16384",
                answer(target, "FirstBurstLength=262144 MaxBurstLength=16384"),
                "the minimum function lets the responder keep FirstBurstLength within MaxBurstLength");
        assertEquals(16384, target.parameters().firstBurstLength());

        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of("FirstBurstLength", "65536"));
        initiator.operationalOffers();
        initiator.respond(pairs("FirstBurstLength=65536 MaxBurstLength=16384"), OPERATIONAL);
        NegotiationException failure = assertThrows(NegotiationException.class, initiator::parameters);
        assertEquals("FirstBurstLength", failure.key());
        assertEquals("negotiated FirstBurstLength 65536 exceeds MaxBurstLength 16384", failure.getMessage());
    }

    @Test
    void badLocalSettingsAreRefusedAtOnce() {
        assertThrows(IllegalArgumentException.class, () -> target("HeaderDigest=MD5"));
        assertThrows(IllegalArgumentException.class, () -> target("MaxRecvDataSegmentLength=100"));
        assertThrows(IllegalArgumentException.class, () -> target("Frobnicate=1"));
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of());
        assertThrows(IllegalArgumentException.class, () -> initiator.offer("TargetAlias"));
        initiator.offer("MaxBurstLength");
        assertThrows(IllegalStateException.class, () -> initiator.offer("MaxBurstLength"));
    }

    @Test
    void chapKeysAreCarriedForTheAuthenticationCode() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of());
        assertEquals(List.of(), initiator.respond(pairs("CHAP_A=5 CHAP_I=1 CHAP_C=0xe4e3"),
                LoginStage.SECURITY_NEGOTIATION));
        assertEquals("0xe4e3", initiator.peerValue(Keys.CHAP_C).orElseThrow());
    }

    @Test
    void iserKeys() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of("RDMAExtensions", "Yes",
                "InitiatorRecvDataSegmentLength", "262144", "MaxOutstandingUnexpectedPDUs", "0"));
        initiator.operationalOffers();
        initiator.respond(pairs("RDMAExtensions=Yes TargetRecvDataSegmentLength=65536 MaxOutstandingUnexpectedPDUs=0"),
                OPERATIONAL);
        NegotiatedParameters parameters = initiator.parameters();
        assertTrue(parameters.rdmaExtensions());
        assertEquals(262144, parameters.initiatorRecvDataSegmentLength());
        assertEquals(65536, parameters.targetRecvDataSegmentLength());
    }

    @Test
    void aDiscoverySessionNegotiatesRdmaExtensions() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of("SessionType", "Discovery",
                "RDMAExtensions", "Yes", "MaxOutstandingUnexpectedPDUs", "4"));
        Negotiator target = new Negotiator(Side.TARGET, true, Map.of("RDMAExtensions", "Yes"));
        target.respond(initiator.offer(Keys.SESSION_TYPE), LoginStage.SECURITY_NEGOTIATION);
        List<KeyValue> offers = initiator.operationalOffers();
        assertEquals(List.of(new KeyValue("RDMAExtensions", "Yes")), offers,
                "offered in discovery; MaxOutstandingUnexpectedPDUs is irrelevant there");
        assertEquals(List.of(new KeyValue("RDMAExtensions", "Yes")), target.respond(offers, OPERATIONAL));
        assertTrue(target.parameters().rdmaExtensions());
    }

    @Test
    void maxOutstandingUnexpectedPdusIsDeclaredByEachSideAndBothAreKept() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of("MaxOutstandingUnexpectedPDUs", "8"));
        Negotiator target = new Negotiator(Side.TARGET, true, Map.of("MaxOutstandingUnexpectedPDUs", "4"));
        List<KeyValue> declaration = initiator.offer(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS);
        assertEquals(List.of(), target.respond(declaration, OPERATIONAL), "a declaration is not answered");
        assertEquals(List.of(), initiator.respond(target.offer(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS), OPERATIONAL));
        assertFalse(initiator.hasOutstandingOffers());
        for (Negotiator side : List.of(initiator, target)) {
            NegotiatedParameters parameters = side.parameters();
            assertEquals(8, parameters.initiatorMaxOutstandingUnexpectedPdus(), side.localSide().toString());
            assertEquals(4, parameters.targetMaxOutstandingUnexpectedPdus(), side.localSide().toString());
        }
    }

    /** As tgt 1.0.85 answers an iSER initiator (seen in the VM lab). */
    @Test
    void aDeclarationThePeerRejectsLeavesTheKeysDefault() throws NegotiationException {
        Negotiator initiator = new Negotiator(Side.INITIATOR, true, Map.of("InitiatorRecvDataSegmentLength", "65536"));
        assertEquals(List.of(new KeyValue("InitiatorRecvDataSegmentLength", "65536")),
                initiator.offer(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH));
        assertEquals(List.of(), initiator.respond(List.of(new KeyValue("InitiatorRecvDataSegmentLength", "Reject")),
                OPERATIONAL));
        assertEquals(8192, initiator.parameters().initiatorRecvDataSegmentLength(), "the default the peer keeps");
        assertThrows(IllegalStateException.class, () -> initiator.offer(Keys.INITIATOR_RECV_DATA_SEGMENT_LENGTH),
                "not declared again");
        assertThrows(NegotiationException.class, () -> initiator.respond(
                List.of(new KeyValue("MaxBurstLength", "Reject")), OPERATIONAL), "a negative answer to nothing sent");
    }

    @Test
    void maxOutstandingUnexpectedPdusIsZeroOrAtLeastTwo() {
        KeyDefinition key = Keys.lookup(Keys.MAX_OUTSTANDING_UNEXPECTED_PDUS).orElseThrow();
        assertEquals(KeyDefinition.Kind.NUMERICAL_DECLARATIVE, key.kind());
        assertTrue(key.accepts("0"));
        assertFalse(key.accepts("1"));
        assertTrue(key.accepts("2"));
        assertTrue(key.accepts("4294967295"));
        assertFalse(key.accepts("4294967296"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Negotiator(Side.INITIATOR, true, Map.of("MaxOutstandingUnexpectedPDUs", "1")));
        assertTrue(e.getMessage().contains("MaxOutstandingUnexpectedPDUs=1"), e.getMessage());
    }

    @Test
    void anUndeclaredMaxOutstandingUnexpectedPdusMeansNoLimit() throws NegotiationException {
        NegotiatedParameters parameters = new Negotiator(Side.INITIATOR, true, Map.of()).parameters();
        assertEquals(0, parameters.initiatorMaxOutstandingUnexpectedPdus());
        assertEquals(0, parameters.targetMaxOutstandingUnexpectedPdus());
    }

    @Test
    void registryHasEveryKeyOfTheRfcs() {
        for (String key : List.of("HeaderDigest", "DataDigest", "MaxConnections", "SendTargets", "TargetName",
                "InitiatorName", "TargetAlias", "InitiatorAlias", "TargetAddress", "TargetPortalGroupTag", "InitialR2T",
                "ImmediateData", "MaxRecvDataSegmentLength", "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait",
                "DefaultTime2Retain", "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder",
                "ErrorRecoveryLevel", "SessionType", "AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R",
                "TaskReporting", "iSCSIProtocolLevel", "RDMAExtensions", "TargetRecvDataSegmentLength",
                "InitiatorRecvDataSegmentLength", "MaxOutstandingUnexpectedPDUs")) {
            assertTrue(Keys.lookup(key).isPresent(), key);
        }
        KeyDefinition maxBurst = Keys.lookup("MaxBurstLength").orElseThrow();
        assertEquals(KeyDefinition.Kind.NUMERICAL_MIN, maxBurst.kind());
        assertEquals(KeyDefinition.Use.LEADING_ONLY, maxBurst.use());
        assertEquals(KeyDefinition.Scope.SESSION, maxBurst.scope());
        assertEquals("262144", maxBurst.defaultValue());
        assertEquals(KeyDefinition.Scope.CONNECTION, Keys.lookup("HeaderDigest").orElseThrow().scope());
        assertTrue(Keys.isExtension("X-com.example.a"));
    }
}
