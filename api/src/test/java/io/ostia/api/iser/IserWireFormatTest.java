package io.ostia.api.iser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Golden vectors written from the layouts that real implementations use: Linux {@code struct
 * iser_ctrl} / {@code struct iser_cm_hdr} (include/scsi/iser.h, drivers/infiniband/ulp/iser) and
 * Wireshark's packet-iser.c (Hello: versions in byte 1, iSER-IRD/ORD big-endian in bytes 2-3).
 */
class IserWireFormatTest {

    /** What ib_iser's iser_prepare_read_cmd sends: ISCSI_CTRL|ISER_RSV, read_stag = rkey, read_va = address. */
    static final String LINUX_READ = "14000000" + "00000000" + "0000000000000000" + "12345678" + "00007f0012345000";
    /** iser_prepare_write_cmd with data beyond the unsolicited part: ISCSI_CTRL|ISER_WSV. */
    static final String LINUX_WRITE = "18000000" + "cafef00d" + "00007f0000002000" + "00000000" + "0000000000000000";
    /** A login or NOP: ISCSI_CTRL and nothing else. */
    static final String LINUX_PLAIN = "10000000" + "00000000" + "0000000000000000" + "00000000" + "0000000000000000";
    /** Hello, MaxVer = MinVer = 10 (the only value Wireshark accepts), iSER-IRD 16. */
    static final String HELLO = "20aa0010" + "0".repeat(48);
    /** HelloReply with REJ, MaxVer = CurVer = 10, iSER-ORD 0x0102. */
    static final String HELLO_REPLY_REJECTED = "31aa0102" + "0".repeat(48);

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    static byte[] encoded(IserMessage message) {
        byte[] bytes = new byte[IserMessage.LENGTH];
        message.encode(MemorySegment.ofArray(bytes), 0);
        return bytes;
    }

    static IserMessage decoded(String hex) throws IserFormatException {
        return IserMessage.decode(MemorySegment.ofArray(hex(hex)));
    }

    @Test
    void theHeaderIsTwentyEightBytesAsStructIserCtrl() {
        assertEquals(1 + 3 + 4 + 8 + 4 + 8, IserMessage.LENGTH);
        assertEquals(LINUX_READ.length() / 2, IserMessage.LENGTH);
    }

    @Test
    void aReadHeaderMatchesLinux() throws IserFormatException {
        IserHeader read = IserHeader.read(0x12345678, 0x7f0012345000L);
        assertArrayEquals(hex(LINUX_READ), encoded(read));
        assertEquals(read, decoded(LINUX_READ));
        assertEquals(0x14, read.flags());
    }

    @Test
    void aWriteHeaderMatchesLinux() throws IserFormatException {
        IserHeader write = IserHeader.write(0xcafef00d, 0x7f0000002000L);
        assertArrayEquals(hex(LINUX_WRITE), encoded(write));
        assertEquals(write, decoded(LINUX_WRITE));
    }

    @Test
    void aBidirectionalHeaderCarriesBothStags() throws IserFormatException {
        IserHeader both = new IserHeader(true, 1, 2, true, 3, 4);
        assertEquals(0x1c, encoded(both)[0] & 0xff);
        assertEquals(both, IserMessage.decode(MemorySegment.ofArray(encoded(both))));
    }

    @Test
    void aPlainHeaderMatchesLinux() throws IserFormatException {
        assertArrayEquals(hex(LINUX_PLAIN), encoded(IserHeader.PLAIN));
        assertEquals(IserHeader.PLAIN, decoded(LINUX_PLAIN));
    }

    @Test
    void encodingZeroesReservedBytesAndWritesAtTheOffset() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(IserMessage.LENGTH + 8);
            buffer.fill((byte) 0x5a);
            IserHeader.read(0x12345678, 0x7f0012345000L).encode(buffer, 8);
            assertEquals((byte) 0x5a, buffer.get(ValueLayout.JAVA_BYTE, 7), "bytes before the offset stay");
            assertArrayEquals(hex(LINUX_READ), buffer.asSlice(8).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void aStagWhoseValidFlagIsClearIsIgnoredOnReceipt() throws IserFormatException {
        // RSV clear but a Read STag present: a receiver ignores it (it is not a valid STag).
        String stale = "10000000" + "00000000" + "0000000000000000" + "12345678" + "00007f0012345000";
        assertEquals(IserHeader.PLAIN, decoded(stale));
    }

    @Test
    void reservedBitsAndBytesAreIgnoredOnReceipt() throws IserFormatException {
        String reserved = "17ffffff" + "00000000" + "0000000000000000" + "12345678" + "00007f0012345000";
        assertEquals(IserHeader.read(0x12345678, 0x7f0012345000L), decoded(reserved));
    }

    @Test
    void aStagWithoutItsValidFlagIsRefusedOnSend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new IserHeader(false, 7, 0, false, 0, 0));
        assertTrue(e.getMessage().contains("WSV"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new IserHeader(false, 0, 0, false, 0, 9));
        assertTrue(e.getMessage().contains("RSV"), e.getMessage());
    }

    @Test
    void helloMatchesWireshark() throws IserFormatException {
        IserHello hello = new IserHello(IserMessage.VERSION, IserMessage.VERSION, 16);
        assertArrayEquals(hex(HELLO), encoded(hello));
        assertEquals(hello, decoded(HELLO));
        assertEquals(IserOpcode.HELLO, hello.opcode());
    }

    @Test
    void helloReplyMatchesWireshark() throws IserFormatException {
        IserHelloReply reply = new IserHelloReply(true, IserMessage.VERSION, IserMessage.VERSION, 0x0102);
        assertArrayEquals(hex(HELLO_REPLY_REJECTED), encoded(reply));
        assertEquals(reply, decoded(HELLO_REPLY_REJECTED));
        IserHelloReply accepted = new IserHelloReply(false, 10, 10, 0xffff);
        assertEquals(accepted, IserMessage.decode(MemorySegment.ofArray(encoded(accepted))));
    }

    @Test
    void helloFieldsOutOfRangeAreRefusedNamingTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IserHello(16, 10, 0)).getMessage()
                .contains("MaxVer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IserHello(10, 10, 0x10000)).getMessage()
                .contains("iSER-IRD"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IserHelloReply(false, 10, -1, 0))
                .getMessage().contains("CurVer"));
    }

    @Test
    void aShortMessageIsRefusedBeforeAnyFieldIsRead() {
        IserFormatException e = assertThrows(IserFormatException.class,
                () -> IserMessage.decode(MemorySegment.ofArray(new byte[IserMessage.LENGTH - 1])));
        assertEquals("Length", e.field());
        assertTrue(e.getMessage().contains("27 bytes"), e.getMessage());
        assertEquals("Length", assertThrows(IserFormatException.class,
                () -> IserMessage.decode(MemorySegment.ofArray(new byte[0]))).field());
    }

    @Test
    void anUnknownOpcodeIsRefusedNamingIt() {
        byte[] bytes = hex(LINUX_PLAIN);
        bytes[0] = 0x40;
        IserFormatException e = assertThrows(IserFormatException.class,
                () -> IserMessage.decode(MemorySegment.ofArray(bytes)));
        assertEquals("Opcode", e.field());
        assertTrue(e.getMessage().contains("0x4"), e.getMessage());
        bytes[0] = 0x00;
        assertEquals("Opcode", assertThrows(IserFormatException.class,
                () -> IserMessage.decode(MemorySegment.ofArray(bytes))).field());
    }

    @Test
    void encodingIntoTooSmallABufferFailsWithoutWriting() {
        byte[] small = new byte[IserMessage.LENGTH - 1];
        assertThrows(IndexOutOfBoundsException.class, () -> IserHeader.PLAIN.encode(MemorySegment.ofArray(small), 0));
        byte[] exact = new byte[IserMessage.LENGTH];
        assertThrows(IndexOutOfBoundsException.class, () -> IserHeader.PLAIN.encode(MemorySegment.ofArray(exact), 1));
    }

    @Test
    void cmPrivateDataMatchesLinux() throws IserFormatException {
        // iser_route_handler: ISER_ZBVA_NOT_SUP, plus ISER_SEND_W_INV_NOT_SUP when the device lacks remote invalidate.
        IserCmHeader both = new IserCmHeader(true, true);
        assertArrayEquals(hex("c0000000"), both.encode());
        assertArrayEquals(hex("80000000"), new IserCmHeader(true, false).encode());
        assertEquals(both, IserCmHeader.decode(hex("c0000000")));
        assertEquals(new IserCmHeader(false, false), IserCmHeader.decode(hex("00000000")));
    }

    @Test
    void cmPrivateDataPaddedByTheCmIsReadByItsPrefix() throws IserFormatException {
        byte[] padded = new byte[56];
        padded[0] = (byte) 0x80;
        padded[55] = 0x7f;
        assertEquals(new IserCmHeader(true, false), IserCmHeader.decode(padded));
    }

    @Test
    void shortCmPrivateDataIsRefused() {
        IserFormatException e = assertThrows(IserFormatException.class, () -> IserCmHeader.decode(new byte[3]));
        assertEquals("PrivateData", e.field());
        assertTrue(e.getMessage().contains("3 bytes"), e.getMessage());
    }
}
