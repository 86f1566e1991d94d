package io.ostia.api.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SenseDataTest {

    @Test
    void fixedFormatRoundTripsWithFieldPointer() {
        SenseData sense = SenseData.illegalRequest(AdditionalSense.INVALID_FIELD_IN_CDB, true, 2, 5);
        byte[] encoded = sense.encodeFixed();
        assertEquals("700005000000000a00000000240000cd0002", HexFormat.of().formatHex(encoded));
        SenseData decoded = SenseData.decode(encoded, 0, encoded.length);
        assertEquals(sense, decoded);
        assertEquals("ILLEGAL_REQUEST: invalid field in CDB (ASC 0x24 ASCQ 0x00), field in CDB byte 2 bit 5",
                decoded.toString());
    }

    @Test
    void fixedFormatCarriesInformationWhenValid() {
        SenseData sense = new SenseData(true, SenseKey.MEDIUM_ERROR, AdditionalSense.UNRECOVERED_READ_ERROR,
                OptionalLong.of(0x1234_5678L), -1);
        SenseData decoded = SenseData.decode(sense.encodeFixed(), 0, SenseData.FIXED_LENGTH);
        assertEquals(OptionalLong.of(0x1234_5678L), decoded.information());
        assertEquals(SenseKey.MEDIUM_ERROR, decoded.key());
    }

    @Test
    void descriptorFormatDecodesInformationAndFieldPointer() {
        // Descriptor sense: ILLEGAL REQUEST / LBA out of range, information descriptor, SKS descriptor.
        byte[] sense = HexFormat.of().parseHex(
                "7205210000000014" + "000a80000000000000001000" + "02060000c0000200");
        SenseData decoded = SenseData.decode(sense, 0, sense.length);
        assertTrue(decoded.current());
        assertEquals(SenseKey.ILLEGAL_REQUEST, decoded.key());
        assertEquals(AdditionalSense.LBA_OUT_OF_RANGE, decoded.additional());
        assertEquals(OptionalLong.of(0x1000), decoded.information());
        assertEquals(0xc00002, decoded.keySpecific());
    }

    @Test
    void deferredAndMalformedSense() {
        byte[] deferred = SenseData.of(SenseKey.UNIT_ATTENTION, AdditionalSense.POWER_ON_OR_RESET).encodeFixed();
        deferred[0] = 0x71;
        assertFalse(SenseData.decode(deferred, 0, deferred.length).current());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SenseData.decode(new byte[] {0x7f, 0, 0, 0, 0, 0, 0, 0}, 0, 8));
        assertEquals("unknown sense data response code 0x7f", e.getMessage());
        byte[] overrun = HexFormat.of().parseHex("720500000000000c" + "000a8000");
        assertThrows(IllegalArgumentException.class, () -> SenseData.decode(overrun, 0, overrun.length));
    }

    @Test
    void cdbBuildersPickTheSmallestForm() {
        assertEquals(10, Cdb.read(0xffff_0000L, 0xffff).length);
        assertEquals(16, Cdb.read(0x1_0000_0000L, 1).length);
        assertEquals(16, Cdb.write(0, 0x10000).length);
        assertEquals("28000000100000000800", HexFormat.of().formatHex(Cdb.read10(0x1000, 8)));
        assertThrows(IllegalArgumentException.class, () -> Cdb.inquiry(0x100, 255));
    }
}
