package io.ostia.api.iser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The iSER HelloReply message (RFC 7145 §9.4): the target's answer to a Hello. Byte 0 carries
 * REJ (the target rejects the connection) in its flags, byte 1 MaxVer (high nibble) and CurVer
 * (low nibble), bytes 2-3 iSER-ORD; the rest of the header is reserved.
 *
 * @param rejected REJ: the target refuses the connection, for example for lack of a common version
 * @param maxVersion the highest iSER version the target speaks (four bits)
 * @param currentVersion the version the connection will use (four bits)
 * @param ord iSER-ORD, the target's outbound RDMA Read queue depth (16 bits)
 */
public record IserHelloReply(boolean rejected, int maxVersion, int currentVersion, int ord) implements IserMessage {

    /** REJ, the reject flag. */
    public static final int REJ = 0x01;

    public IserHelloReply {
        IserWire.nibble("MaxVer", maxVersion);
        IserWire.nibble("CurVer", currentVersion);
        IserWire.unsigned16("iSER-ORD", ord);
    }

    @Override
    public IserOpcode opcode() {
        return IserOpcode.HELLO_REPLY;
    }

    @Override
    public void encode(MemorySegment segment, long offset) {
        IserWire.clear(segment, offset, LENGTH);
        segment.set(ValueLayout.JAVA_BYTE, offset, (byte) (IserOpcode.HELLO_REPLY.code() << 4 | (rejected ? REJ : 0)));
        segment.set(ValueLayout.JAVA_BYTE, offset + 1, (byte) (maxVersion << 4 | currentVersion));
        segment.set(IserWire.SHORT, offset + 2, (short) ord);
    }

    static IserHelloReply decodeHelloReply(byte flags, MemorySegment message) {
        int versions = message.get(ValueLayout.JAVA_BYTE, 1) & 0xff;
        return new IserHelloReply((flags & REJ) != 0, versions >>> 4, versions & 0xf,
                message.get(IserWire.SHORT, 2) & 0xffff);
    }
}
