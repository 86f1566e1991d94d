package io.ostia.api.scsi;

import java.util.ArrayList;
import java.util.List;

/**
 * Logical unit numbers as SAM-5 encodes them in eight bytes: peripheral addressing for LUNs
 * below 256, flat space addressing up to 16383, as Linux and most targets do.
 */
public final class Luns {
    public static final int MAX_FLAT_LUN = 0x3fff;

    private Luns() {
    }

    /** The eight-byte LUN field for {@code lun}, as a big-endian long. */
    public static long encode(int lun) {
        if (lun < 0 || lun > MAX_FLAT_LUN) {
            throw new IllegalArgumentException("LUN " + lun + " is outside 0.." + MAX_FLAT_LUN);
        }
        int firstLevel = lun < 256 ? lun : 0x4000 | lun;
        return (long) firstLevel << 48;
    }

    /** The LUN number of an eight-byte LUN field of peripheral or flat addressing. */
    public static int decode(long field) {
        int firstLevel = (int) (field >>> 48) & 0xffff;
        int method = firstLevel >>> 14;
        return switch (method) {
            case 0 -> firstLevel & 0xff;
            case 1 -> firstLevel & 0x3fff;
            default -> throw new IllegalArgumentException(String.format(
                    "LUN field 0x%016x uses address method %d, which Ostia does not decode", field, method));
        };
    }

    /** Parses REPORT LUNS parameter data into LUN numbers. */
    public static List<Integer> parseReportLuns(byte[] data, int length) {
        if (length < 8) {
            throw new IllegalArgumentException("REPORT LUNS data is " + length + " bytes, need at least 8");
        }
        int listLength = Capacity.getInt(data, 0);
        int available = Math.min(listLength, length - 8) / 8;
        List<Integer> luns = new ArrayList<>(available);
        for (int i = 0; i < available; i++) {
            int at = 8 + i * 8;
            long field = (long) Capacity.getInt(data, at) << 32 | Integer.toUnsignedLong(Capacity.getInt(data, at + 4));
            luns.add(decode(field));
        }
        return luns;
    }
}
