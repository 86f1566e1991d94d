package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SerialNumbersTest {

    @Test
    void comparesAcrossTheWrap() {
        assertTrue(SerialNumbers.lessThan(0xffff_fffe, 1));
        assertTrue(SerialNumbers.greaterThan(1, 0xffff_fffe));
        assertTrue(SerialNumbers.lessThan(5, 6));
        assertFalse(SerialNumbers.lessThan(6, 6));
        assertTrue(SerialNumbers.lessThanOrEqual(6, 6));
        assertTrue(SerialNumbers.greaterThanOrEqual(0, 0xffff_ffff));
    }

    @Test
    void numbersHalfTheSpaceApartAreUnordered() {
        assertFalse(SerialNumbers.lessThan(0, 0x8000_0000));
        assertFalse(SerialNumbers.greaterThan(0, 0x8000_0000));
    }

    @Test
    void commandWindow() {
        assertTrue(SerialNumbers.inWindow(0xffff_ffff, 0xffff_fff0, 0x10));
        assertFalse(SerialNumbers.inWindow(0x11, 0xffff_fff0, 0x10));
        assertTrue(SerialNumbers.windowOpen(10, 10));
        assertFalse(SerialNumbers.windowOpen(10, 9), "MaxCmdSN = ExpCmdSN - 1 closes the window");
        assertTrue(SerialNumbers.windowValid(10, 9));
        assertFalse(SerialNumbers.windowValid(10, 8), "below ExpCmdSN - 1 is invalid and ignored");
        assertEquals(0x21, SerialNumbers.windowSize(0xffff_fff0, 0x10));
        assertEquals(0, SerialNumbers.windowSize(10, 9));
    }

    @Test
    void addAndMax() {
        assertEquals(2, SerialNumbers.add(0xffff_ffff, 3));
        assertThrows(IllegalArgumentException.class, () -> SerialNumbers.add(1, -1));
        assertEquals(1, SerialNumbers.max(0xffff_ffff, 1));
    }
}
