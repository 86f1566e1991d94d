package io.ostia.api.scsi;

/**
 * Builders for the CDBs the initiator issues. Each returns a fresh array the caller owns.
 * Multi-byte fields are big-endian as SCSI requires.
 */
public final class Cdb {
    private Cdb() {
    }

    public static byte[] testUnitReady() {
        return new byte[6];
    }

    public static byte[] requestSense(int allocationLength) {
        byte[] cdb = new byte[6];
        cdb[0] = ScsiOpcode.REQUEST_SENSE;
        cdb[4] = (byte) checkRange("allocation length", allocationLength, 0xff);
        return cdb;
    }

    /** Standard INQUIRY when {@code vpdPage} is negative, otherwise the given VPD page. */
    public static byte[] inquiry(int vpdPage, int allocationLength) {
        byte[] cdb = new byte[6];
        cdb[0] = ScsiOpcode.INQUIRY;
        if (vpdPage >= 0) {
            cdb[1] = 1;
            cdb[2] = (byte) checkRange("VPD page", vpdPage, 0xff);
        }
        putShort(cdb, 3, checkRange("allocation length", allocationLength, 0xffff));
        return cdb;
    }

    public static byte[] readCapacity10() {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) ScsiOpcode.READ_CAPACITY_10;
        return cdb;
    }

    public static byte[] readCapacity16(int allocationLength) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) ScsiOpcode.SERVICE_ACTION_IN_16;
        cdb[1] = ScsiOpcode.SA_READ_CAPACITY_16;
        putInt(cdb, 10, allocationLength);
        return cdb;
    }

    public static byte[] reportLuns(int allocationLength) {
        byte[] cdb = new byte[12];
        cdb[0] = (byte) ScsiOpcode.REPORT_LUNS;
        putInt(cdb, 6, allocationLength);
        return cdb;
    }

    public static byte[] read10(long lba, int blocks) {
        return rw10(ScsiOpcode.READ_10, lba, blocks);
    }

    public static byte[] write10(long lba, int blocks) {
        return rw10(ScsiOpcode.WRITE_10, lba, blocks);
    }

    public static byte[] read16(long lba, int blocks) {
        return rw16(ScsiOpcode.READ_16, lba, blocks);
    }

    public static byte[] write16(long lba, int blocks) {
        return rw16(ScsiOpcode.WRITE_16, lba, blocks);
    }

    /** READ (10) when the LBA and length fit, else READ (16): what a block layer should send. */
    public static byte[] read(long lba, int blocks) {
        return fits10(lba, blocks) ? read10(lba, blocks) : read16(lba, blocks);
    }

    /** WRITE (10) when the LBA and length fit, else WRITE (16). */
    public static byte[] write(long lba, int blocks) {
        return fits10(lba, blocks) ? write10(lba, blocks) : write16(lba, blocks);
    }

    /** SYNCHRONIZE CACHE (10) of the whole medium (LBA 0, zero blocks). */
    public static byte[] synchronizeCache10() {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) ScsiOpcode.SYNCHRONIZE_CACHE_10;
        return cdb;
    }

    /**
     * PERSISTENT RESERVE OUT (SPC-4 6.15) with the basic 24-byte parameter list: {@code
     * serviceAction} (0 REGISTER, 1 RESERVE, 2 RELEASE...), {@code scopeAndType} (0x01: LU
     * scope, Write Exclusive).
     */
    public static byte[] persistentReserveOut(int serviceAction, int scopeAndType) {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) ScsiOpcode.PERSISTENT_RESERVE_OUT;
        cdb[1] = (byte) (serviceAction & 0x1f);
        cdb[2] = (byte) scopeAndType;
        cdb[8] = 24;
        return cdb;
    }

    /** PERSISTENT RESERVE IN (SPC-4 6.14): {@code serviceAction} 0 READ KEYS, 1 READ RESERVATION. */
    public static byte[] persistentReserveIn(int serviceAction, int allocationLength) {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) ScsiOpcode.PERSISTENT_RESERVE_IN;
        cdb[1] = (byte) (serviceAction & 0x1f);
        cdb[7] = (byte) (allocationLength >>> 8);
        cdb[8] = (byte) allocationLength;
        return cdb;
    }

    private static byte[] rw10(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[10];
        cdb[0] = (byte) opcode;
        setTransfer(cdb, lba, blocks);
        return cdb;
    }

    private static byte[] rw16(int opcode, long lba, int blocks) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        setTransfer(cdb, lba, blocks);
        return cdb;
    }

    /**
     * Rewrites the LBA and transfer length of a READ or WRITE (10) or (16) CDB in place, so that a
     * caller that reissues one CDB needs no new array per command.
     *
     * @throws IllegalArgumentException when they do not fit the CDB (or the CDB is not 10 or 16 bytes)
     */
    public static void setTransfer(byte[] cdb, long lba, int blocks) {
        if (cdb.length == 10) {
            if (lba < 0 || lba > 0xffff_ffffL) {
                throw new IllegalArgumentException("LBA " + lba + " does not fit a 10-byte CDB");
            }
            putInt(cdb, 2, (int) lba);
            putShort(cdb, 7, checkRange("transfer length", blocks, 0xffff));
        } else if (cdb.length == 16) {
            if (lba < 0) {
                throw new IllegalArgumentException("negative LBA " + lba);
            }
            if (blocks < 0) {
                throw new IllegalArgumentException("negative transfer length " + blocks);
            }
            putLong(cdb, 2, lba);
            putInt(cdb, 10, blocks);
        } else {
            throw new IllegalArgumentException("a " + cdb.length + "-byte CDB is no READ or WRITE (10) or (16)");
        }
    }

    /** True when a transfer of {@code blocks} at {@code lba} fits a 10-byte READ or WRITE CDB. */
    public static boolean fits10(long lba, int blocks) {
        return lba >= 0 && lba + blocks <= 0x1_0000_0000L && blocks <= 0xffff;
    }

    private static int checkRange(String what, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(what + " " + value + " is outside 0.." + max);
        }
        return value;
    }

    static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static void putLong(byte[] b, int at, long v) {
        putInt(b, at, (int) (v >>> 32));
        putInt(b, at + 4, (int) v);
    }
}
