package io.ostia.initiator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CommandWindowTest {

    @Test
    void opensAndClosesWithMaxCmdSN() {
        CommandWindow w = new CommandWindow();
        w.reset(10, 10, 11);
        assertTrue(w.isOpen());
        assertEquals(10, w.take());
        assertEquals(11, w.take());
        assertFalse(w.isOpen(), "CmdSN 12 is past MaxCmdSN 11");
        assertEquals(12, w.peek(), "immediate PDUs carry the next CmdSN without taking it");
        assertTrue(w.update(12, 20));
        assertTrue(w.isOpen());
    }

    @Test
    void ignoresStaleAndInvalidWindows() {
        CommandWindow w = new CommandWindow();
        w.reset(100, 100, 131);
        assertFalse(w.update(90, 120), "an older PDU overtaken on the wire must not shrink the window");
        assertEquals(131, w.maxCmdSN());
        assertFalse(w.update(140, 130), "MaxCmdSN < ExpCmdSN - 1 is to be ignored (RFC 7143 4.2.2.1)");
        assertEquals(100, w.expCmdSN());
        assertFalse(w.update(132, 131), "a zero window (MaxCmdSN = ExpCmdSN - 1) is valid but opens nothing");
        assertEquals(132, w.expCmdSN());
    }

    @Test
    void wrapsAroundTheSerialNumberSpace() {
        CommandWindow w = new CommandWindow();
        w.reset(0xffff_fffe, 0xffff_fffe, 1);
        assertEquals(0xffff_fffe, w.take());
        assertEquals(0xffff_ffff, w.take());
        assertEquals(0, w.take());
        assertEquals(1, w.take());
        assertFalse(w.isOpen());
        assertTrue(w.update(2, 5));
        assertTrue(w.isOpen());
    }
}
