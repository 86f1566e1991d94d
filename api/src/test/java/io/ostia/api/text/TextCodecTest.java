package io.ostia.api.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class TextCodecTest {

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parsesInOrderAndFormatsBackToTheSameBytes() throws TextFormatException {
        byte[] text = ascii("InitiatorName=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-ls\0SessionType=Discovery\0"
                + "HeaderDigest=None,CRC32C\0X-com.example.opt=\0");
        List<KeyValue> pairs = TextCodec.parse(text);
        assertEquals(List.of(new KeyValue("InitiatorName", "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-ls"),
                new KeyValue("SessionType", "Discovery"), new KeyValue("HeaderDigest", "None,CRC32C"),
                new KeyValue("X-com.example.opt", "")), pairs);
        assertArrayEquals(text, TextCodec.format(pairs));
        assertEquals(List.of(), TextCodec.parse(new byte[0]));
        assertEquals(pairs, TextCodec.parse(ascii(new String(text, StandardCharsets.UTF_8) + "\0\0")),
                "null bytes padding the end carry nothing");
    }

    @Test
    void aliasesAreUtf8() throws TextFormatException {
        List<KeyValue> pairs = List.of(new KeyValue("TargetAlias", "Speicher für Ostia ☃"));
        assertEquals(pairs, TextCodec.parse(TextCodec.format(pairs)));
    }

    @Test
    void malformedTextIsReportedClearly() {
        assertMessage("missing '=' in \"HeaderDigest\"", ascii("HeaderDigest\0"));
        assertMessage("empty key in \"=None\"", ascii("=None\0"));
        assertMessage("text data does not end with a null byte after \"DataDigest=None\"",
                ascii("HeaderDigest=None\0DataDigest=None"));
        assertMessage("empty key=value pair at byte 4", ascii("A=1\0\0B=2\0"));
        assertMessage("key \"" + "K".repeat(64) + "\" is longer than 63 bytes", ascii("K".repeat(64) + "=1\0"));
        assertMessage("key \"Max Burst\" contains ' ', not allowed in a key name", ascii("Max Burst=1\0"));
        TextFormatException notUtf8 = assertThrows(TextFormatException.class,
                () -> TextCodec.parse(HexFormat.of().parseHex("5461726765744179c0af3d780061")));
        assertTrue(notUtf8.getMessage().contains("not valid UTF-8"), notUtf8.getMessage());
        TextFormatException badValue = assertThrows(TextFormatException.class,
                () -> TextCodec.parse(HexFormat.of().parseHex("54617267657441c3a9")));
        assertTrue(badValue.getMessage().startsWith("text data does not end"), badValue.getMessage());
        TextFormatException badAlias = assertThrows(TextFormatException.class,
                () -> TextCodec.parse(HexFormat.of().parseHex("546172676574416c6961733dff00")));
        assertEquals("TargetAlias", badAlias.key());
        assertEquals("value of TargetAlias is not valid UTF-8: \"\\xff\"", badAlias.getMessage());
    }

    @Test
    void valueLengthsFollowTheKey() throws TextFormatException {
        TextFormatException tooLong = assertThrows(TextFormatException.class,
                () -> TextCodec.parse(ascii("TargetAlias=" + "a".repeat(256) + "\0")));
        assertEquals("TargetAlias", tooLong.key());
        assertEquals("value of TargetAlias is 256 bytes, more than 255", tooLong.getMessage());
        String challenge = "0x" + "ab".repeat(1024);
        assertEquals(challenge, TextCodec.parse(ascii("CHAP_C=" + challenge + "\0")).getFirst().value());
        assertThrows(IllegalArgumentException.class,
                () -> TextCodec.format(List.of(new KeyValue("TargetAlias", "a".repeat(256)))));
    }

    @Test
    void continuationJoinsPairsCutAcrossPdus() throws TextFormatException {
        List<KeyValue> pairs = List.of(new KeyValue("TargetName", "iqn.2025-11.io.ostia:one"),
                new KeyValue("TargetAddress", "127.0.0.1:3260,1"), new KeyValue("TargetName", "iqn.2025-11.io.ostia:two"));
        MemorySegment text = TextCodec.formatSegment(pairs);
        List<MemorySegment> pieces = TextCodec.split(text, 7);
        assertEquals((text.byteSize() + 6) / 7, pieces.size());
        TextAccumulator accumulator = new TextAccumulator(TextAccumulator.MINIMUM_LIMIT);
        for (int i = 0; i < pieces.size() - 1; i++) {
            assertNull(accumulator.append(pieces.get(i), true));
            assertTrue(accumulator.pending());
        }
        assertEquals(pairs, accumulator.append(pieces.getLast(), false));
        assertTrue(!accumulator.pending());
    }

    @Test
    void continuationIsBounded() throws TextFormatException {
        TextAccumulator accumulator = new TextAccumulator(8192);
        assertNull(accumulator.append(MemorySegment.ofArray(new byte[8000]), true));
        TextFormatException failure = assertThrows(TextFormatException.class,
                () -> accumulator.append(MemorySegment.ofArray(new byte[193]), true));
        assertEquals("text spanning several PDUs reached 8193 bytes, more than the limit of 8192",
                failure.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TextAccumulator(8191));
    }

    @Test
    void numbersInEveryEncoding() {
        assertEquals(OptionalLong.of(262144), TextCodec.parseNumber("262144"));
        assertEquals(OptionalLong.of(0x40000), TextCodec.parseNumber("0x40000"));
        assertEquals(OptionalLong.of(0x40000), TextCodec.parseNumber("0X040000"));
        assertEquals(OptionalLong.of(0x040000), TextCodec.parseNumber("0bBAAA"));
        assertEquals(OptionalLong.empty(), TextCodec.parseNumber("-1"));
        assertEquals(OptionalLong.empty(), TextCodec.parseNumber("12k"));
        assertEquals(OptionalLong.empty(), TextCodec.parseNumber(""));
        assertEquals(OptionalLong.empty(), TextCodec.parseNumber("18446744073709551615"), "above 2^63-1");
    }

    @Test
    void binaryValues() throws TextFormatException {
        byte[] value = {0x0a, (byte) 0xbc, 0x01};
        assertEquals("0x0abc01", TextCodec.encodeHex(value));
        assertArrayEquals(value, TextCodec.decodeBinary("0x0ABC01"));
        assertArrayEquals(value, TextCodec.decodeBinary("0xabc01"), "an odd digit count has an implied leading 0");
        assertArrayEquals(value, TextCodec.decodeBinary(TextCodec.encodeBase64(value)));
        assertThrows(TextFormatException.class, () -> TextCodec.decodeBinary("0xzz"));
        assertThrows(TextFormatException.class, () -> TextCodec.decodeBinary("abcdef"));
        assertThrows(TextFormatException.class, () -> TextCodec.decodeBinary("0x"));
    }

    private static void assertMessage(String message, byte[] text) {
        TextFormatException failure = assertThrows(TextFormatException.class, () -> TextCodec.parse(text));
        assertEquals(message, failure.getMessage());
    }
}
