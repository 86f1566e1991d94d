package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.ScsiOpcode;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;

/**
 * The commands a {@link LogicalUnit} serves: how reservations treat each one, and what REPORT
 * SUPPORTED OPERATION CODES says about it (CDB usage maps: the bits the device server reads).
 */
final class CommandTable {

    static final long MAX_UNMAP_BLOCKS = 0xffff_ffffL;
    static final long MAX_WRITE_SAME_BLOCKS = 0xffff_ffffL;

    /** Never blocked by a reservation (SPC-4 table 65 "allowed" in every column). */
    static final int ALLOWED = 0;
    /** Blocked by Exclusive Access reservations only. */
    static final int READ_CLASS = 1;
    /** Blocked by Write Exclusive and Exclusive Access reservations. */
    static final int WRITE_CLASS = 2;

    /** @param serviceAction the service action, or -1 for commands without one */
    record Entry(int opcode, int serviceAction, int reservationClass, byte[] usage) {
        int cdbLength() {
            return usage.length;
        }
    }

    private static final HexFormat HEX = HexFormat.of();

    private static Entry e(int opcode, int sa, int cls, String usage) {
        return new Entry(opcode, sa, cls, HEX.parseHex(usage.replace(" ", "")));
    }

    private static final List<Entry> ENTRIES = List.of(
            e(ScsiOpcode.TEST_UNIT_READY, -1, ALLOWED, "ff 00 00 00 00 00"),
            e(ScsiOpcode.REQUEST_SENSE, -1, ALLOWED, "ff 01 00 00 ff 00"),
            e(ScsiOpcode.READ_6, -1, READ_CLASS, "ff 1f ff ff ff 00"),
            e(ScsiOpcode.WRITE_6, -1, WRITE_CLASS, "ff 1f ff ff ff 00"),
            e(ScsiOpcode.INQUIRY, -1, ALLOWED, "ff 03 ff ff ff 00"),
            e(ScsiOpcode.MODE_SELECT_6, -1, WRITE_CLASS, "ff 11 00 00 ff 00"),
            e(ScsiOpcode.RESERVE_6, -1, ALLOWED, "ff 00 00 00 00 00"),
            e(ScsiOpcode.RELEASE_6, -1, ALLOWED, "ff 00 00 00 00 00"),
            e(ScsiOpcode.MODE_SENSE_6, -1, READ_CLASS, "ff 08 ff ff ff 00"),
            e(ScsiOpcode.START_STOP_UNIT, -1, ALLOWED, "ff 01 00 0f f7 00"),
            e(ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL, -1, ALLOWED, "ff 00 00 00 03 00"),
            e(ScsiOpcode.READ_CAPACITY_10, -1, ALLOWED, "ff 00 00 00 00 00 00 00 00 00"),
            e(ScsiOpcode.READ_10, -1, READ_CLASS, "ff f8 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.WRITE_10, -1, WRITE_CLASS, "ff f8 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.WRITE_AND_VERIFY_10, -1, WRITE_CLASS, "ff f2 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.VERIFY_10, -1, READ_CLASS, "ff f6 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.PRE_FETCH_10, -1, READ_CLASS, "ff 02 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.READ_DEFECT_DATA_10, -1, READ_CLASS, "ff 00 1f 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.SYNCHRONIZE_CACHE_10, -1, WRITE_CLASS, "ff 00 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.WRITE_SAME_10, -1, WRITE_CLASS, "ff f8 ff ff ff ff 00 ff ff 00"),
            e(ScsiOpcode.UNMAP, -1, WRITE_CLASS, "ff 01 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.SANITIZE, Sanitize.BLOCK_ERASE, WRITE_CLASS, "ff bf 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.SANITIZE, Sanitize.CRYPTOGRAPHIC_ERASE, WRITE_CLASS, "ff bf 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.SANITIZE, Sanitize.EXIT_FAILURE_MODE, WRITE_CLASS, "ff bf 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.MODE_SELECT_10, -1, WRITE_CLASS, "ff 11 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.MODE_SENSE_10, -1, READ_CLASS, "ff 18 ff ff 00 00 00 ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_IN, 0x00, ALLOWED, "ff 1f 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_IN, 0x01, ALLOWED, "ff 1f 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_IN, 0x02, ALLOWED, "ff 1f 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_IN, 0x03, ALLOWED, "ff 1f 00 00 00 00 00 ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x00, ALLOWED, "ff 1f 00 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x01, ALLOWED, "ff 1f ff 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x02, ALLOWED, "ff 1f ff 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x03, ALLOWED, "ff 1f 00 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x04, ALLOWED, "ff 1f ff 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x05, ALLOWED, "ff 1f ff 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.PERSISTENT_RESERVE_OUT, 0x06, ALLOWED, "ff 1f 00 00 00 ff ff ff ff 00"),
            e(ScsiOpcode.EXTENDED_COPY, 0x00, WRITE_CLASS, "ff 1f 00 00 00 00 00 00 00 00 ff ff ff ff 00 00"),
            e(ScsiOpcode.RECEIVE_COPY_RESULTS, 0x00, READ_CLASS, "ff 1f ff 00 00 00 00 00 00 00 ff ff ff ff 00 00"),
            e(ScsiOpcode.RECEIVE_COPY_RESULTS, 0x03, READ_CLASS, "ff 1f 00 00 00 00 00 00 00 00 ff ff ff ff 00 00"),
            e(ScsiOpcode.READ_16, -1, READ_CLASS, "ff f8 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.COMPARE_AND_WRITE, -1, WRITE_CLASS, "ff f8 ff ff ff ff ff ff ff ff 00 00 00 ff 00 00"),
            e(ScsiOpcode.WRITE_16, -1, WRITE_CLASS, "ff f8 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.ORWRITE_16, -1, WRITE_CLASS, "ff f8 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.WRITE_ATOMIC_16, -1, WRITE_CLASS, "ff f8 ff ff ff ff ff ff ff ff 00 00 ff ff 00 00"),
            e(ScsiOpcode.WRITE_AND_VERIFY_16, -1, WRITE_CLASS, "ff f2 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.VERIFY_16, -1, READ_CLASS, "ff f6 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.PRE_FETCH_16, -1, READ_CLASS, "ff 02 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.SYNCHRONIZE_CACHE_16, -1, WRITE_CLASS, "ff 00 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.WRITE_SAME_16, -1, WRITE_CLASS, "ff f9 ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.SERVICE_ACTION_IN_16, ScsiOpcode.SA_READ_CAPACITY_16, ALLOWED,
                    "ff 1f 00 00 00 00 00 00 00 00 ff ff ff ff 00 00"),
            e(ScsiOpcode.SERVICE_ACTION_IN_16, ScsiOpcode.SA_GET_LBA_STATUS, READ_CLASS,
                    "ff 1f ff ff ff ff ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.REPORT_LUNS, -1, ALLOWED, "ff 00 ff 00 00 00 ff ff ff ff 00 00"),
            e(ScsiOpcode.MAINTENANCE_IN, ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES, ALLOWED,
                    "ff 1f 87 ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.READ_12, -1, READ_CLASS, "ff f8 ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.WRITE_12, -1, WRITE_CLASS, "ff f8 ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.WRITE_AND_VERIFY_12, -1, WRITE_CLASS, "ff f2 ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.VERIFY_12, -1, READ_CLASS, "ff f6 ff ff ff ff ff ff ff ff 00 00"),
            e(ScsiOpcode.READ_DEFECT_DATA_12, -1, READ_CLASS, "ff 1f 00 00 00 00 ff ff ff ff 00 00"));

    /** First entry per opcode, indexed by opcode. */
    private static final Entry[] BY_OPCODE = new Entry[256];
    private static final boolean[] HAS_SERVICE_ACTIONS = new boolean[256];

    static {
        for (Entry entry : ENTRIES) {
            if (BY_OPCODE[entry.opcode()] == null) {
                BY_OPCODE[entry.opcode()] = entry;
            }
            HAS_SERVICE_ACTIONS[entry.opcode()] |= entry.serviceAction() >= 0;
        }
    }

    private CommandTable() {
    }

    /** The entry for the CDB's opcode (any of its service actions), or null if unsupported. */
    static Entry find(byte[] cdb) {
        return BY_OPCODE[cdb[0] & 0xff];
    }

    static boolean writes(int opcode) {
        Entry entry = BY_OPCODE[opcode];
        return entry != null && entry.reservationClass() == WRITE_CLASS;
    }

    private static Entry find(int opcode, int serviceAction) {
        for (Entry entry : ENTRIES) {
            if (entry.opcode() == opcode && entry.serviceAction() == serviceAction) {
                return entry;
            }
        }
        return null;
    }

    /** REPORT SUPPORTED OPERATION CODES parameter data (SPC-4 6.35). */
    static byte[] report(byte[] cdb) throws ScsiStatusException {
        boolean timeouts = (cdb[2] & 0x80) != 0;
        int options = cdb[2] & 0x07;
        int opcode = cdb[3] & 0xff;
        int serviceAction = Bytes.u16(cdb, 4);
        if (options == 0) {
            ByteArrayOutputStream list = new ByteArrayOutputStream();
            for (Entry entry : ENTRIES) {
                byte[] d = new byte[8];
                d[0] = (byte) entry.opcode();
                Bytes.put16(d, 2, Math.max(entry.serviceAction(), 0));
                d[5] = (byte) ((timeouts ? 0x02 : 0) | (entry.serviceAction() >= 0 ? 0x01 : 0));
                Bytes.put16(d, 6, entry.cdbLength());
                list.writeBytes(d);
                if (timeouts) {
                    list.writeBytes(timeoutsDescriptor());
                }
            }
            byte[] out = new byte[4 + list.size()];
            Bytes.put32(out, 0, list.size());
            System.arraycopy(list.toByteArray(), 0, out, 4, list.size());
            return out;
        }
        Entry entry;
        switch (options) {
            case 1 -> {
                if (HAS_SERVICE_ACTIONS[opcode]) {
                    throw ScsiStatusException.invalidCdb(2, 2);
                }
                entry = find(opcode, -1);
            }
            case 2 -> {
                if (BY_OPCODE[opcode] != null && !HAS_SERVICE_ACTIONS[opcode]) {
                    throw ScsiStatusException.invalidCdb(2, 2);
                }
                entry = find(opcode, serviceAction);
            }
            case 3 -> entry = HAS_SERVICE_ACTIONS[opcode] ? find(opcode, serviceAction) : find(opcode, -1);
            default -> throw ScsiStatusException.invalidCdb(2, 2);
        }
        if (entry == null) {
            byte[] out = new byte[4];
            out[1] = 0x01; // SUPPORT: not supported
            return out;
        }
        byte[] usage = entry.usage();
        byte[] out = new byte[4 + usage.length + (timeouts ? 12 : 0)];
        out[1] = (byte) ((timeouts ? 0x80 : 0) | 0x03); // CTDP, SUPPORT: supported as in the standard
        Bytes.put16(out, 2, usage.length);
        System.arraycopy(usage, 0, out, 4, usage.length);
        out[4] = (byte) entry.opcode(); // SPC-4: the usage data starts with the operation code itself
        if (usage.length > 1 && entry.serviceAction() >= 0) {
            out[5] = (byte) (entry.serviceAction() | (usage[1] & 0xe0));
        }
        if (timeouts) {
            System.arraycopy(timeoutsDescriptor(), 0, out, 4 + usage.length, 12);
        }
        return out;
    }

    private static byte[] timeoutsDescriptor() {
        byte[] d = new byte[12];
        Bytes.put16(d, 0, 0x0a);
        Bytes.put32(d, 4, 1); // nominal: 1 second
        Bytes.put32(d, 8, 30); // recommended: 30 seconds
        return d;
    }
}
