package io.ostia.api.text;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Joins the data segments of a sequence of Login or Text PDUs with the C bit into one logical
 * text data segment (RFC 7143 §6.1), which may cut a key=value pair anywhere. Its size is
 * bounded: a peer cannot make it grow without limit.
 */
public final class TextAccumulator {
    /** RFC 7143 §6.1 requires accepting at least 8192 bytes of text in a negotiation sequence. */
    public static final int MINIMUM_LIMIT = 8192;

    private final int maxBytes;
    private byte[] buffer = new byte[0];
    private int length;

    /** @param maxBytes the largest logical text data segment accepted, at least {@link #MINIMUM_LIMIT} */
    public TextAccumulator(int maxBytes) {
        if (maxBytes < MINIMUM_LIMIT) {
            throw new IllegalArgumentException("text limit " + maxBytes + " is below RFC 7143's " + MINIMUM_LIMIT);
        }
        this.maxBytes = maxBytes;
    }

    /**
     * Adds one PDU's data segment.
     *
     * @param continues the PDU's C bit: more text follows in the next PDU
     * @return the parsed pairs once a PDU without the C bit ends the sequence, else {@code null}
     */
    public List<KeyValue> append(MemorySegment data, boolean continues) throws TextFormatException {
        long total = length + data.byteSize();
        if (total > maxBytes) {
            reset();
            throw new TextFormatException(null, "text spanning several PDUs reached " + total
                    + " bytes, more than the limit of " + maxBytes);
        }
        if (total > buffer.length) {
            buffer = Arrays.copyOf(buffer, (int) Math.min(maxBytes, Math.max(total, 2L * buffer.length)));
        }
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buffer, length, (int) data.byteSize());
        length = (int) total;
        if (continues) {
            return null;
        }
        byte[] text = Arrays.copyOf(buffer, length);
        reset();
        return TextCodec.parse(text);
    }

    /** Whether a sequence with the C bit is open. */
    public boolean pending() {
        return length > 0;
    }

    /** Drops any partial text, for example when the exchange is abandoned. */
    public void reset() {
        length = 0;
    }
}
