package io.ostia.api.pdu;

/**
 * Serial number arithmetic of RFC 1982 with SERIAL_BITS = 32, as RFC 7143 §4.2.2.1 requires for
 * CmdSN, StatSN, DataSN and R2TSN. Values are unsigned 32-bit numbers held in {@code int}s.
 * Two numbers exactly 2^31 apart are not ordered: neither is less than the other.
 */
public final class SerialNumbers {
    private SerialNumbers() {
    }

    /** s1 &lt; s2 in serial arithmetic. */
    public static boolean lessThan(int s1, int s2) {
        int difference = s1 - s2;
        return difference < 0 && difference != Integer.MIN_VALUE;
    }

    /** s1 &gt; s2 in serial arithmetic. */
    public static boolean greaterThan(int s1, int s2) {
        return lessThan(s2, s1);
    }

    public static boolean lessThanOrEqual(int s1, int s2) {
        return s1 == s2 || lessThan(s1, s2);
    }

    public static boolean greaterThanOrEqual(int s1, int s2) {
        return s1 == s2 || lessThan(s2, s1);
    }

    /** low &lt;= s &lt;= high in serial arithmetic: for example ExpCmdSN &lt;= CmdSN &lt;= MaxCmdSN. */
    public static boolean inWindow(int s, int low, int high) {
        return lessThanOrEqual(low, s) && lessThanOrEqual(s, high);
    }

    /**
     * Whether a target's command window is open: RFC 7143 §4.2.2.1 says MaxCmdSN = ExpCmdSN - 1
     * means closed (no command but immediate ones may be sent), and MaxCmdSN &lt; ExpCmdSN - 1
     * is invalid and must be ignored.
     */
    public static boolean windowOpen(int expCmdSN, int maxCmdSN) {
        return lessThanOrEqual(expCmdSN, maxCmdSN);
    }

    /** Whether a received MaxCmdSN / ExpCmdSN pair is usable (RFC 7143 §4.2.2.1: MaxCmdSN &gt;= ExpCmdSN - 1). */
    public static boolean windowValid(int expCmdSN, int maxCmdSN) {
        return lessThanOrEqual(expCmdSN - 1, maxCmdSN);
    }

    /** How many numbers the window low..high holds: 0 when closed. */
    public static long windowSize(int low, int high) {
        return windowOpen(low, high) ? Integer.toUnsignedLong(high - low) + 1 : 0;
    }

    /** s + n modulo 2^32 (n must be below 2^31, as RFC 1982 addition requires). */
    public static int add(int s, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("serial addition needs 0 <= n < 2^31, got " + n);
        }
        return s + n;
    }

    /** The larger of two serial numbers, for advancing ExpStatSN / MaxCmdSN monotonically. */
    public static int max(int s1, int s2) {
        return lessThan(s1, s2) ? s2 : s1;
    }
}
