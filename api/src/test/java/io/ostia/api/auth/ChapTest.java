package io.ostia.api.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.text.TextCodec;
import io.ostia.api.text.TextFormatException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChapTest {
    private static final HexFormat HEX = HexFormat.of();

    /**
     * From golden/chap.txt: tgtd sent CHAP_I=1 and this CHAP_C, and libiscsi 1.19 answered
     * CHAP_R=0xC72ABBDD8848773FA3878D7B06191A0A for the secret "ostia-secret-12".
     */
    @Test
    void md5MatchesLibiscsiOnTheCapturedExchange() throws TextFormatException {
        byte[] challenge = Chap.parseBinary("CHAP_C", "0xe4e3cb54b0ac19e22c38f2786ed106307f75a060087239accc79cb46c0e77"
                + "62451c3a08ce416124244b1413c0d1faa052f93");
        byte[] libiscsi = Chap.parseBinary("CHAP_R", "0xC72ABBDD8848773FA3878D7B06191A0A");
        ChapSecret secret = ChapSecret.of("ostia-user", "ostia-secret-12");
        assertArrayEquals(libiscsi, Chap.response(ChapAlgorithm.MD5, Chap.parseIdentifier("1"), secret, challenge));
        assertTrue(Chap.verify(ChapAlgorithm.MD5, 1, secret, challenge, libiscsi));
        assertFalse(Chap.verify(ChapAlgorithm.MD5, 2, secret, challenge, libiscsi));
        assertFalse(Chap.verify(ChapAlgorithm.MD5, 1, ChapSecret.of("ostia-user", "ostia-secret-13"), challenge,
                libiscsi));
    }

    /**
     * Expected values computed with Python 3.11 hashlib at authoring time:
     * {@code hashlib.new(name, bytes([0x2a]) + b"mutual-target-secret" + bytes(range(32))).hexdigest()}.
     */
    @Test
    void otherAlgorithmsMatchAnIndependentImplementation() {
        byte[] challenge = new byte[32];
        for (int i = 0; i < 32; i++) {
            challenge[i] = (byte) i;
        }
        ChapSecret secret = ChapSecret.of("target", "mutual-target-secret");
        assertEquals("a03897f5f3393c5be1704cb1945b0265ed6b85a6",
                HEX.formatHex(Chap.response(ChapAlgorithm.SHA1, 0x2a, secret, challenge)));
        assertEquals("b289fbcd6787578dae9f1806a9ffbc14886aa228084613908ced2480952cc7b6",
                HEX.formatHex(Chap.response(ChapAlgorithm.SHA256, 0x2a, secret, challenge)));
        assertEquals("49c581717d1c97f251a2a562d2d24c357992d09219c56441ab0fae1095d40668",
                HEX.formatHex(Chap.response(ChapAlgorithm.SHA3_256, 0x2a, secret, challenge)));
    }

    @Test
    void algorithmNumbersAndSelection() {
        assertEquals(List.of(5, 6, 7, 8), List.of(ChapAlgorithm.MD5.code(), ChapAlgorithm.SHA1.code(),
                ChapAlgorithm.SHA256.code(), ChapAlgorithm.SHA3_256.code()));
        assertEquals("7,5", ChapAlgorithm.offer(List.of(ChapAlgorithm.SHA256, ChapAlgorithm.MD5)));
        assertEquals(Optional.of(ChapAlgorithm.MD5), ChapAlgorithm.select("5", List.of(ChapAlgorithm.MD5)));
        assertEquals(Optional.of(ChapAlgorithm.SHA256),
                ChapAlgorithm.select("99,7,5", List.of(ChapAlgorithm.MD5, ChapAlgorithm.SHA256)));
        assertEquals(Optional.empty(), ChapAlgorithm.select("7,x,", List.of(ChapAlgorithm.MD5)));
    }

    @Test
    void challengesAreRandomAndLongEnough() {
        SecureRandom random = new SecureRandom();
        byte[] md5 = Chap.newChallenge(ChapAlgorithm.MD5, random);
        assertEquals(16, md5.length);
        assertEquals(32, Chap.newChallenge(ChapAlgorithm.SHA256, random).length);
        assertNotEquals(TextCodec.encodeHex(md5), TextCodec.encodeHex(Chap.newChallenge(ChapAlgorithm.MD5, random)));
        int identifier = Chap.newIdentifier(random);
        assertTrue(identifier >= 0 && identifier <= 255);
        assertTrue(Chap.isReflection(md5, md5.clone()));
    }

    @Test
    void valuesAreChecked() {
        assertThrows(TextFormatException.class, () -> Chap.parseIdentifier("256"));
        assertThrows(TextFormatException.class, () -> Chap.parseIdentifier("one"));
        TextFormatException tooLong = assertThrows(TextFormatException.class,
                () -> Chap.parseBinary("CHAP_C", "0x" + "00".repeat(1025)));
        assertEquals("CHAP_C", tooLong.key());
        assertThrows(TextFormatException.class, () -> Chap.parseBinary("CHAP_R", "0xnothex"));
        assertThrows(IllegalArgumentException.class,
                () -> Chap.response(ChapAlgorithm.MD5, 256, ChapSecret.of("a", "b"), new byte[1]));
    }

    @Test
    void secretRules() {
        assertThrows(IllegalArgumentException.class, () -> ChapSecret.of("user", ""));
        assertThrows(IllegalArgumentException.class, () -> ChapSecret.of("user", "x".repeat(256)));
        assertThrows(IllegalArgumentException.class, () -> ChapSecret.of("", "secret"));
        ChapSecret shortSecret = ChapSecret.of("user", "short");
        assertFalse(shortSecret.meetsRecommendedLength(), "accepted, but below RFC 7143's 12 bytes");
        assertTrue(ChapSecret.of("user", "twelve bytes").meetsRecommendedLength());
        assertThrows(IllegalArgumentException.class,
                () -> Chap.requireDistinctSecrets(ChapSecret.of("i", "same secret!"), ChapSecret.of("t", "same secret!")));
        assertFalse(shortSecret.toString().contains("short"), "toString does not leak the secret");
    }
}
