package io.ostia.transport.tcp.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How many threads the machine has runnable now, from the fourth field of Linux's
 * {@code /proc/loadavg} ("running/total"): the one instantaneous figure the kernel gives
 * without privileges. Read a few times a second by a receive thread that polls.
 *
 * <p>One per receive thread, used by it alone: the file is opened at the first read and kept,
 * and each read is one positional read from offset 0 (procfs makes the text afresh there)
 * into an array made once (the JDK stages a heap buffer's read through its per-thread cached
 * direct buffer), so a read allocates nothing and costs one system call, not an open, a read
 * and a close. The thread closes it when it ends; a file that cannot be read or parsed is
 * closed at once and the answer is -1 from then on.
 */
final class RunQueue implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RunQueue.class.getName());
    private static final Path LOADAVG = Path.of("/proc/loadavg");
    /** "0.52 0.58 0.59 3/467 12345\n" with room to spare. */
    private static final int TEXT = 128;

    private final byte[] text = new byte[TEXT];
    private final ByteBuffer read = ByteBuffer.wrap(text);
    private FileChannel loadavg;
    private boolean closed;

    /** Runnable threads besides the caller (which runs while it asks), or -1 when not known. */
    int othersRunnable() {
        if (closed) {
            return -1;
        }
        int length;
        try {
            if (loadavg == null) {
                loadavg = FileChannel.open(LOADAVG, StandardOpenOption.READ);
            }
            read.clear();
            length = Math.max(loadavg.read(read, 0), 0);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, () -> LOADAVG + " unreadable; polling does not look at the CPU load: " + e);
            close();
            return -1;
        }
        int running = parseRunning(text, length);
        if (running < 0) {
            LOG.log(Level.DEBUG, () -> LOADAVG + " has no running/total field; polling does not look at the CPU load");
            close();
            return -1;
        }
        return Math.max(0, running - 1);
    }

    /** Whether the file is open now (a test's view of the descriptor this holds). */
    boolean isOpen() {
        return loadavg != null && loadavg.isOpen();
    }

    /** Closes the file; later reads answer -1. */
    @Override
    public void close() {
        closed = true;
        if (loadavg == null) {
            return;
        }
        try {
            loadavg.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing " + LOADAVG + " failed", e);
        }
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
