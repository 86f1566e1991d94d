package io.ostia.transport.tcp.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.System.Logger.Level;

/**
 * How many threads the machine has runnable now, from the fourth field of Linux's
 * {@code /proc/loadavg} ("running/total"): the one instantaneous figure the kernel gives
 * without privileges. Read a few times a second by each receive thread that polls.
 */
final class RunQueue {

    private static final System.Logger LOG = System.getLogger(RunQueue.class.getName());
    private static final String LOADAVG = "/proc/loadavg";
    private static volatile boolean unavailable;

    private RunQueue() {
    }

    /** Runnable threads besides the caller (which runs while it asks), or -1 when not known. */
    static int othersRunnable() {
        if (unavailable) {
            return -1;
        }
        byte[] text = new byte[128];
        int length;
        try (RandomAccessFile file = new RandomAccessFile(LOADAVG, "r")) {
            length = file.read(text);
        } catch (IOException e) {
            unavailable = true;
            LOG.log(Level.DEBUG, () -> LOADAVG + " unreadable; polling does not look at the CPU load: " + e);
            return -1;
        }
        int running = parseRunning(text, Math.max(length, 0));
        if (running < 0) {
            unavailable = true;
            LOG.log(Level.DEBUG, () -> LOADAVG + " has no running/total field; polling does not look at the CPU load");
            return -1;
        }
        return Math.max(0, running - 1);
    }

    /** The number before the '/' of "0.52 0.58 0.59 3/467 12345", or -1 when there is none. */
    static int parseRunning(byte[] text, int length) {
        for (int slash = 0; slash < length; slash++) {
            if (text[slash] == '/') {
                int value = 0;
                int scale = 1;
                int i = slash - 1;
                for (; i >= 0 && text[i] >= '0' && text[i] <= '9' && scale <= 100_000_000; i--) {
                    value += (text[i] - '0') * scale;
                    scale *= 10;
                }
                return i == slash - 1 ? -1 : value;
            }
        }
        return -1;
    }
}
