package io.ostia.api.iser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One iSER message header: every iSER message starts with {@link #LENGTH} bytes whose first byte
 * holds the opcode (high nibble) and its flags (low nibble); an {@link IserHeader} is followed by
 * an iSCSI PDU, a Hello or HelloReply by nothing.
 */
public sealed interface IserMessage permits IserHeader, IserHello, IserHelloReply {

    /** Every iSER header is 28 bytes: flags, 3 reserved, Write STag, Write Base Offset, Read STag, Read Base Offset. */
    int LENGTH = 28;

    /** The iSER version of RFC 7145 in Hello and HelloReply, the value Wireshark's dissector requires. */
    int VERSION = 10;

    IserOpcode opcode();

    /**
     * Writes the {@link #LENGTH} header bytes at {@code offset}, reserved bytes zeroed.
     *
     * @throws IndexOutOfBoundsException if the segment has fewer than {@link #LENGTH} bytes from {@code offset}
     */
    void encode(MemorySegment segment, long offset);

    /**
     * Reads the header at the start of {@code message}, a received message of exactly its length.
     * Reserved bits and bytes are ignored, as RFC 7145 asks of a receiver.
     *
     * @throws IserFormatException if the message is shorter than the header or its opcode is unknown
     */
    static IserMessage decode(MemorySegment message) throws IserFormatException {
        if (message.byteSize() < LENGTH) {
            throw new IserFormatException("Length", "an iSER message of " + message.byteSize()
                    + " bytes is shorter than the " + LENGTH + "-byte iSER header");
        }
        byte flags = message.get(ValueLayout.JAVA_BYTE, 0);
        return switch (IserOpcode.of(flags)) {
            case ISCSI_CONTROL -> IserHeader.decodeControl(flags, message);
            case HELLO -> IserHello.decodeHello(message);
            case HELLO_REPLY -> IserHelloReply.decodeHelloReply(flags, message);
        };
    }
}
