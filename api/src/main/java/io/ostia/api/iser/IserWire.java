package io.ostia.api.iser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Field access shared by the iSER messages: network byte order at unaligned offsets. */
final class IserWire {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private IserWire() {
    }

    /** Zeroes the {@code length} bytes at {@code offset} (reserved fields) after checking they exist. */
    static void clear(MemorySegment segment, long offset, long length) {
        // Byte by byte rather than asSlice(...).fill: no segment object per header encoded.
        for (long i = offset; i < offset + length; i++) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0);
        }
    }

    static int nibble(String name, int value) {
        if ((value & ~0xf) != 0) {
            throw new IllegalArgumentException(name + " " + value + " does not fit four bits");
        }
        return value;
    }

    static int unsigned16(String name, int value) {
        if ((value & ~0xffff) != 0) {
            throw new IllegalArgumentException(name + " " + value + " is not a 16-bit unsigned value");
        }
        return value;
    }
}
