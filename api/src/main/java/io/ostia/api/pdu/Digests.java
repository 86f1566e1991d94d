package io.ostia.api.pdu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The CRC32C header and data digests of RFC 7143 §7.2. The data digest covers the data segment
 * and its padding. On the wire the digest is the CRC32C register in little-endian byte order
 * (RFC 7143 §13.1, the test vectors of RFC 3720 Appendix B.4: 32 zero bytes give aa 36 91 8a).
 */
public final class Digests {
    /** A digest takes four bytes on the wire. */
    public static final int LENGTH = 4;

    private static final ByteBuffer ZERO_PADDING = ByteBuffer.allocate(3).asReadOnlyBuffer();

    private Digests() {
    }

    /** The data digest over one data segment plus its padding. */
    public static int dataDigest(MemorySegment data) {
        CRC32C crc = new CRC32C();
        crc.update(data.asByteBuffer());
        updatePadding(crc, data.byteSize());
        return (int) crc.getValue();
    }

    /** The data digest over a data segment given as consecutive slices, plus its padding. */
    public static int dataDigest(List<MemorySegment> slices) {
        CRC32C crc = new CRC32C();
        long length = 0;
        for (MemorySegment slice : slices) {
            crc.update(slice.asByteBuffer());
            length += slice.byteSize();
        }
        updatePadding(crc, length);
        return (int) crc.getValue();
    }

    /** The CRC32C of the remaining bytes of {@code bytes}, which are left unconsumed. */
    public static int crc32c(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        return (int) crc.getValue();
    }

    /** Writes a digest at the buffer's position in wire order (little-endian), advancing it. */
    public static void put(ByteBuffer dst, int digest) {
        dst.putInt(dst.order() == ByteOrder.LITTLE_ENDIAN ? digest : Integer.reverseBytes(digest));
    }

    /** Reads a wire-order (little-endian) digest at {@code index}. */
    public static int get(ByteBuffer src, int index) {
        int raw = src.getInt(index);
        return src.order() == ByteOrder.LITTLE_ENDIAN ? raw : Integer.reverseBytes(raw);
    }

    private static void updatePadding(CRC32C crc, long dataLength) {
        int padding = PduEncoder.paddingLength(dataLength);
        if (padding > 0) {
            crc.update(ZERO_PADDING.duplicate().limit(padding));
        }
    }
}
