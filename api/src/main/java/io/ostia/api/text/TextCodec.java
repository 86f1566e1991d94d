package io.ostia.api.text;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;

/**
 * The text format of RFC 7143 §6.1: UTF-8 {@code key=value} pairs, each followed by one null
 * byte, in the data segment of Login and Text PDUs; plus the encodings of numerical and binary
 * values (decimal, {@code 0x} hex, {@code 0b} base64).
 */
public final class TextCodec {
    /** A key name is at most 63 bytes (a standard-label, RFC 7143 §6.1). */
    public static final int MAX_KEY_LENGTH = 63;
    /** Values are at most 255 bytes unless the key says otherwise (RFC 7143 §6.1). */
    public static final int MAX_VALUE_LENGTH = 255;
    /** The longest value any key allows: CHAP challenges and responses, private keys. */
    public static final int MAX_LONG_VALUE_LENGTH = 8192;

    private TextCodec() {
    }

    /** Parses a whole logical text data segment (no continuation pending). */
    public static List<KeyValue> parse(MemorySegment data) throws TextFormatException {
        return parse(data.toArray(ValueLayout.JAVA_BYTE));
    }

    /** Parses a whole logical text data segment (no continuation pending). */
    public static List<KeyValue> parse(byte[] data) throws TextFormatException {
        List<KeyValue> pairs = new ArrayList<>();
        int start = 0;
        int end = data.length;
        // Extra null bytes at the very end carry nothing; some targets pad text with them.
        while (end > 1 && data[end - 1] == 0 && data[end - 2] == 0) {
            end--;
        }
        while (start < end) {
            int terminator = indexOf(data, (byte) 0, start, end);
            if (terminator < 0) {
                throw new TextFormatException(null, "text data does not end with a null byte after \""
                        + printable(data, start, end) + "\"");
            }
            pairs.add(parsePair(data, start, terminator));
            start = terminator + 1;
        }
        return pairs;
    }

    private static KeyValue parsePair(byte[] data, int start, int end) throws TextFormatException {
        if (start == end) {
            throw new TextFormatException(null, "empty key=value pair at byte " + start);
        }
        int equals = indexOf(data, (byte) '=', start, end);
        if (equals < 0) {
            throw new TextFormatException(null, "missing '=' in \"" + printable(data, start, end) + "\"");
        }
        if (equals == start) {
            throw new TextFormatException(null, "empty key in \"" + printable(data, start, end) + "\"");
        }
        if (equals - start > MAX_KEY_LENGTH) {
            throw new TextFormatException(null, "key \"" + printable(data, start, Math.min(equals, start + 80))
                    + "\" is longer than " + MAX_KEY_LENGTH + " bytes");
        }
        String key = decodeUtf8(null, data, start, equals);
        String problem = keyProblem(key);
        if (problem != null) {
            throw new TextFormatException(key, problem);
        }
        int valueLength = end - equals - 1;
        int limit = Keys.maxValueLength(key);
        if (valueLength > limit) {
            throw new TextFormatException(key, "value of " + key + " is " + valueLength + " bytes, more than "
                    + limit);
        }
        return new KeyValue(key, decodeUtf8(key, data, equals + 1, end));
    }

    /** Writes pairs as {@code key=value\0...}. Values are checked against their key's length limit. */
    public static byte[] format(List<KeyValue> pairs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (KeyValue pair : pairs) {
            byte[] value = pair.value().getBytes(StandardCharsets.UTF_8);
            int limit = Keys.maxValueLength(pair.key());
            if (value.length > limit) {
                throw new IllegalArgumentException("value of " + pair.key() + " is " + value.length
                        + " bytes, more than " + limit);
            }
            out.writeBytes(pair.key().getBytes(StandardCharsets.UTF_8));
            out.write('=');
            out.writeBytes(value);
            out.write(0);
        }
        return out.toByteArray();
    }

    /** {@link #format} as a heap segment, ready to be a PDU's data segment. */
    public static MemorySegment formatSegment(List<KeyValue> pairs) {
        return MemorySegment.ofArray(format(pairs));
    }

    /**
     * Cuts formatted text into data segments of at most {@code maxDataSegmentLength} bytes (the
     * peer's MaxRecvDataSegmentLength); every segment but the last goes in a PDU with the C bit.
     * Slices share {@code text}'s memory.
     */
    public static List<MemorySegment> split(MemorySegment text, int maxDataSegmentLength) {
        if (maxDataSegmentLength < 1) {
            throw new IllegalArgumentException("maxDataSegmentLength " + maxDataSegmentLength + " < 1");
        }
        List<MemorySegment> segments = new ArrayList<>();
        for (long offset = 0; offset < text.byteSize(); offset += maxDataSegmentLength) {
            segments.add(text.asSlice(offset, Math.min(maxDataSegmentLength, text.byteSize() - offset)));
        }
        if (segments.isEmpty()) {
            segments.add(text);
        }
        return segments;
    }

    /**
     * Parses a numerical value: decimal, {@code 0x} hex or {@code 0b} base64 (RFC 7143 §6.1), up
     * to 2^63-1. Empty when the text is not such a number or is larger.
     */
    public static OptionalLong parseNumber(String text) {
        try {
            BigInteger value;
            if (text.startsWith("0x") || text.startsWith("0X") || text.startsWith("0b") || text.startsWith("0B")) {
                value = new BigInteger(1, decodeBinary(text));
            } else if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                value = new BigInteger(text);
            } else {
                return OptionalLong.empty();
            }
            return value.bitLength() < 64 ? OptionalLong.of(value.longValue()) : OptionalLong.empty();
        } catch (TextFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Hex encoding of a binary value, {@code 0x} then lower-case digits. */
    public static String encodeHex(byte[] value) {
        return "0x" + HexFormat.of().formatHex(value);
    }

    /** Base64 encoding of a binary value, {@code 0b} then RFC 4648 base64 with padding. */
    public static String encodeBase64(byte[] value) {
        return "0b" + Base64.getEncoder().encodeToString(value);
    }

    /** Decodes a binary value in hex ({@code 0x}, either case, odd digit counts allowed) or base64 ({@code 0b}). */
    public static byte[] decodeBinary(String text) throws TextFormatException {
        if (text.length() < 3) {
            throw new TextFormatException(null, "binary value \"" + text + "\" is too short");
        }
        String prefix = text.substring(0, 2);
        String digits = text.substring(2);
        try {
            return switch (prefix) {
                case "0x", "0X" -> HexFormat.of().parseHex(digits.length() % 2 == 0 ? digits : "0" + digits);
                case "0b", "0B" -> Base64.getDecoder().decode(digits);
                default -> throw new TextFormatException(null, "binary value \"" + abbreviate(text)
                        + "\" starts with neither 0x nor 0b");
            };
        } catch (IllegalArgumentException e) {
            throw new TextFormatException(null, "binary value \"" + abbreviate(text) + "\" is not valid "
                    + (prefix.equalsIgnoreCase("0x") ? "hex" : "base64") + ": " + e.getMessage());
        }
    }

    /** Why {@code key} is not a valid key name, or {@code null} if it is. */
    static String keyProblem(String key) {
        if (key.isEmpty()) {
            return "empty key";
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_LENGTH) {
            return "key \"" + abbreviate(key) + "\" is longer than " + MAX_KEY_LENGTH + " bytes";
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean allowed = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                    || ".-+@_".indexOf(c) >= 0 || c == '#' && i == 1 && key.charAt(0) == 'X';
            if (!allowed) {
                return "key \"" + abbreviate(key) + "\" contains '" + c + "', not allowed in a key name";
            }
        }
        return null;
    }

    private static String decodeUtf8(String key, byte[] data, int start, int end) throws TextFormatException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(data, start, end - start));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new TextFormatException(key, (key == null ? "key" : "value of " + key) + " is not valid UTF-8: \""
                    + printable(data, start, end) + "\"");
        }
    }

    private static int indexOf(byte[] data, byte wanted, int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    /** Bytes as ASCII for an error message, other bytes escaped, cut at 80. */
    private static String printable(byte[] data, int start, int end) {
        StringBuilder text = new StringBuilder();
        for (int i = start; i < end && text.length() < 80; i++) {
            int b = data[i] & 0xff;
            if (b >= 0x20 && b < 0x7f) {
                text.append((char) b);
            } else {
                text.append(String.format("\\x%02x", b));
            }
        }
        return end - start > 80 ? text + "..." : text.toString();
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }
}
