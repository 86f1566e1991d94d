package io.ostia.api.iser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The iSER Hello message (RFC 7145 §9.3): the initiator's versions and how many incoming RDMA
 * Reads it can have outstanding. Byte 1 holds MaxVer (high nibble) and MinVer (low nibble), bytes
 * 2-3 iSER-IRD; the rest of the header is reserved.
 *
 * @param maxVersion the highest iSER version the initiator speaks (four bits)
 * @param minVersion the lowest iSER version the initiator speaks (four bits)
 * @param ird iSER-IRD, the initiator's inbound RDMA Read queue depth (16 bits)
 */
public record IserHello(int maxVersion, int minVersion, int ird) implements IserMessage {

    public IserHello {
        IserWire.nibble("MaxVer", maxVersion);
        IserWire.nibble("MinVer", minVersion);
        IserWire.unsigned16("iSER-IRD", ird);
    }

    @Override
    public IserOpcode opcode() {
        return IserOpcode.HELLO;
    }

    @Override
    public void encode(MemorySegment segment, long offset) {
        IserWire.clear(segment, offset, LENGTH);
        segment.set(ValueLayout.JAVA_BYTE, offset, (byte) (IserOpcode.HELLO.code() << 4));
        segment.set(ValueLayout.JAVA_BYTE, offset + 1, (byte) (maxVersion << 4 | minVersion));
        segment.set(IserWire.SHORT, offset + 2, (short) ird);
    }

    static IserHello decodeHello(MemorySegment message) {
        int versions = message.get(ValueLayout.JAVA_BYTE, 1) & 0xff;
        return new IserHello(versions >>> 4, versions & 0xf, message.get(IserWire.SHORT, 2) & 0xffff);
    }
}
