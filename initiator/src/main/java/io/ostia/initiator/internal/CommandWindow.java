package io.ostia.initiator.internal;

import io.ostia.api.pdu.SerialNumbers;

/**
 * The session's CmdSN window (RFC 7143 4.2.2.1): the next CmdSN to assign, and the ExpCmdSN and
 * MaxCmdSN the target last advertised. {@link #take} is called under the session's send lock
 * only; {@link #update} and {@link #reset} change the target's values under the window's own
 * monitor; the fields are volatile so the per-command reads take no lock.
 */
final class CommandWindow {
    private volatile int nextCmdSN;
    private volatile int expCmdSN;
    private volatile int maxCmdSN;

    /** Starts a window from a login response's ExpCmdSN and MaxCmdSN. */
    synchronized void reset(int firstCmdSN, int expCmdSN, int maxCmdSN) {
        this.nextCmdSN = firstCmdSN;
        this.expCmdSN = expCmdSN;
        this.maxCmdSN = maxCmdSN;
    }

    /**
     * Applies a target's ExpCmdSN/MaxCmdSN. Values that go backwards (older PDUs overtaken on
     * the wire) and windows that RFC 7143 says to ignore (MaxCmdSN < ExpCmdSN - 1) change nothing.
     *
     * @return true when the window moved forward, so waiting commands may go
     */
    synchronized boolean update(int newExpCmdSN, int newMaxCmdSN) {
        if (SerialNumbers.lessThan(newMaxCmdSN, newExpCmdSN - 1)) {
            return false;
        }
        boolean moved = false;
        if (SerialNumbers.greaterThan(newExpCmdSN, expCmdSN)) {
            expCmdSN = newExpCmdSN;
        }
        if (SerialNumbers.greaterThan(newMaxCmdSN, maxCmdSN)) {
            maxCmdSN = newMaxCmdSN;
            moved = true;
        }
        return moved;
    }

    /** True when a non-immediate command may be sent now. */
    boolean isOpen() {
        return !SerialNumbers.greaterThan(nextCmdSN, maxCmdSN);
    }

    /** Takes the next CmdSN for a non-immediate command; call only when {@link #isOpen()}, under the send lock. */
    int take() {
        return nextCmdSN++;
    }

    /** The CmdSN an immediate PDU carries: the next one, not advanced. */
    int peek() {
        return nextCmdSN;
    }

    int expCmdSN() {
        return expCmdSN;
    }

    int maxCmdSN() {
        return maxCmdSN;
    }

    @Override
    public synchronized String toString() {
        return "CmdSN next " + Integer.toUnsignedString(nextCmdSN) + ", window " + Integer.toUnsignedString(expCmdSN)
                + ".." + Integer.toUnsignedString(maxCmdSN);
    }
}
