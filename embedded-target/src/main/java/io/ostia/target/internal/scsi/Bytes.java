package io.ostia.target.internal.scsi;

/** Big-endian field access for CDBs and parameter data. */
final class Bytes {

    private Bytes() {
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xff;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
    }

    static int u24(byte[] b, int off) {
        return (b[off] & 0xff) << 16 | u16(b, off + 1);
    }

    static long u32(byte[] b, int off) {
        return ((long) u16(b, off) << 16) | u16(b, off + 2);
    }

    static long u64(byte[] b, int off) {
        return u32(b, off) << 32 | u32(b, off + 4);
    }

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void put32(byte[] b, int off, long v) {
        put16(b, off, (int) (v >>> 16));
        put16(b, off + 2, (int) v);
    }

    static void put64(byte[] b, int off, long v) {
        put32(b, off, v >>> 32);
        put32(b, off + 4, v);
    }

    /** Space-padded ASCII. */
    static void putAscii(byte[] b, int off, int len, String s) {
        for (int i = 0; i < len; i++) {
            b[off + i] = (byte) (i < s.length() ? s.charAt(i) : ' ');
        }
    }
}
