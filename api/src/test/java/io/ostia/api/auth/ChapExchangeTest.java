package io.ostia.api.auth;

import io.ostia.api.AuthenticationException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.text.KeyValue;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChapExchangeTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ChapSecret INITIATOR = ChapSecret.of("iqn.2025-11.io.ostia:host", "initiator-secret");
    private static final ChapSecret TARGET = ChapSecret.of("iqn.2025-11.io.ostia:disk", "target-secret-x");

    private static String value(List<KeyValue> pairs, String key) {
        return pairs.stream().filter(p -> p.key().equals(key)).map(KeyValue::value).findFirst().orElse(null);
    }

    private static ChapTarget target(Optional<ChapSecret> own, List<ChapAlgorithm> acceptable) {
        Map<String, ChapSecret> known = Map.of(INITIATOR.name(), INITIATOR);
        return new ChapTarget(name -> Optional.ofNullable(known.get(name)), own, acceptable, RANDOM);
    }

    /** golden/chap.txt: tgtd's CHAP_A=5, CHAP_I=1 and CHAP_C, and libiscsi's answer to them. */
    @Test
    void answersTgtdsChallengeAsLibiscsiDid() throws AuthenticationException {
        ChapInitiator initiator = new ChapInitiator(ChapSecret.of("ostia-user", "ostia-secret-12"), Optional.empty(),
                List.of(ChapAlgorithm.MD5), RANDOM);
        assertEquals(List.of(new KeyValue("CHAP_A", "5")), initiator.offerAlgorithms());
        List<KeyValue> answer = initiator.respond("5", "1", "0xe4e3cb54b0ac19e22c38f2786ed106307f75a060087239accc79cb4"
                + "6c0e7762451c3a08ce416124244b1413c0d1faa052f93");
        assertEquals("ostia-user", value(answer, "CHAP_N"));
        assertTrue(value(answer, "CHAP_R").equalsIgnoreCase("0xC72ABBDD8848773FA3878D7B06191A0A"), answer.toString());
        assertEquals(2, answer.size(), "one-way: no challenge of our own");
    }

    @Test
    void mutualSha256BothWays() throws AuthenticationException {
        ChapInitiator initiator = new ChapInitiator(INITIATOR, Optional.of(TARGET),
                List.of(ChapAlgorithm.SHA256, ChapAlgorithm.MD5), RANDOM);
        ChapTarget target = target(Optional.of(TARGET), List.of(ChapAlgorithm.MD5, ChapAlgorithm.SHA256));
        List<KeyValue> challenge = target.challenge(value(initiator.offerAlgorithms(), "CHAP_A"));
        assertEquals("7", value(challenge, "CHAP_A"), "the initiator's preference wins");
        assertEquals(66, value(challenge, "CHAP_C").length(), "32 random bytes in hex");
        List<KeyValue> response = initiator.respond(value(challenge, "CHAP_A"), value(challenge, "CHAP_I"),
                value(challenge, "CHAP_C"));
        List<KeyValue> targetProof = target.verify(value(response, "CHAP_N"), value(response, "CHAP_R"),
                value(response, "CHAP_I"), value(response, "CHAP_C"));
        assertEquals(TARGET.name(), value(targetProof, "CHAP_N"));
        initiator.verifyTarget(value(targetProof, "CHAP_N"), value(targetProof, "CHAP_R"));
    }

    @Test
    void failuresAreAuthenticationErrors() throws AuthenticationException {
        ChapTarget target = target(Optional.empty(), List.of(ChapAlgorithm.MD5));
        List<KeyValue> challenge = target.challenge("5");
        ChapInitiator wrongSecret = new ChapInitiator(ChapSecret.of(INITIATOR.name(), "not-the-secret"),
                Optional.empty(), List.of(ChapAlgorithm.MD5), RANDOM);
        List<KeyValue> response = wrongSecret.respond("5", value(challenge, "CHAP_I"), value(challenge, "CHAP_C"));
        assertEquals("wrong CHAP response for \"iqn.2025-11.io.ostia:host\" (secret mismatch)",
                assertThrows(AuthenticationException.class,
                        () -> target.verify(value(response, "CHAP_N"), value(response, "CHAP_R"), null, null))
                        .getMessage());
        assertThrows(AuthenticationException.class, () -> target.verify("somebody", "0x00", null, null));
        assertThrows(AuthenticationException.class, () -> target.verify(INITIATOR.name(), "0xzz", null, null));
        assertThrows(AuthenticationException.class,
                () -> target(Optional.empty(), List.of(ChapAlgorithm.SHA256)).challenge("5,6"));
        ChapInitiator initiator = new ChapInitiator(INITIATOR, Optional.empty(), List.of(ChapAlgorithm.MD5), RANDOM);
        assertThrows(AuthenticationException.class, () -> initiator.respond("7", "1", "0x0102"),
                "an algorithm that was not offered");
        assertThrows(AuthenticationException.class, () -> initiator.respond("5", "1", "0b!!"));
    }

    @Test
    void mutualFailures() throws AuthenticationException {
        ChapTarget target = target(Optional.of(TARGET), List.of(ChapAlgorithm.MD5));
        List<KeyValue> challenge = target.challenge("5");
        ChapInitiator initiator = new ChapInitiator(INITIATOR, Optional.of(TARGET), List.of(ChapAlgorithm.MD5),
                RANDOM);
        List<KeyValue> response = initiator.respond("5", value(challenge, "CHAP_I"), value(challenge, "CHAP_C"));
        AuthenticationException reflected = assertThrows(AuthenticationException.class,
                () -> target.verify(value(response, "CHAP_N"), value(response, "CHAP_R"), "3",
                        value(challenge, "CHAP_C")));
        assertTrue(reflected.getMessage().contains("reflects"), reflected.getMessage());
        ChapTarget withoutCredentials = target(Optional.empty(), List.of(ChapAlgorithm.MD5));
        List<KeyValue> secondChallenge = withoutCredentials.challenge("5");
        List<KeyValue> secondResponse = new ChapInitiator(INITIATOR, Optional.of(TARGET), List.of(ChapAlgorithm.MD5),
                RANDOM).respond("5", value(secondChallenge, "CHAP_I"), value(secondChallenge, "CHAP_C"));
        AuthenticationException noCredentials = assertThrows(AuthenticationException.class,
                () -> withoutCredentials.verify(value(secondResponse, "CHAP_N"), value(secondResponse, "CHAP_R"),
                        value(secondResponse, "CHAP_I"), value(secondResponse, "CHAP_C")));
        assertTrue(noCredentials.getMessage().contains("no CHAP credentials"), noCredentials.getMessage());
        assertThrows(AuthenticationException.class, () -> initiator.verifyTarget(TARGET.name(), "0x" + "00".repeat(16)));
        assertThrows(AuthenticationException.class, () -> initiator.verifyTarget("impostor", "0x00"));
        assertThrows(IllegalArgumentException.class, () -> new ChapInitiator(INITIATOR,
                Optional.of(ChapSecret.of("t", "initiator-secret")), List.of(ChapAlgorithm.MD5), RANDOM),
                "the same secret both ways is refused");
    }
}
