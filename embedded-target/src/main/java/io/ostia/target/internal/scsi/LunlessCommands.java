package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.Luns;
import io.ostia.api.scsi.ScsiOpcode;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;

/**
 * The answers a target gives without a logical unit (SPC-4 §4.6.4): REPORT LUNS for every LUN,
 * and INQUIRY, REQUEST SENSE and everything else for a LUN that does not exist.
 */
public final class LunlessCommands {

    private LunlessCommands() {
    }

    /** Standard INQUIRY data for a LUN that does not exist (peripheral qualifier 3). */
    public static void inquiryNoLun(ScsiTask t) {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x03) != 0 || cdb[2] != 0) {
            t.fail(ScsiStatus.CHECK_CONDITION, SenseData.of(SenseKey.ILLEGAL_REQUEST,
                    AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED));
            return;
        }
        byte[] out = Inquiry.standard(0x7f);
        t.returnData(out, out.length, Bytes.u16(cdb, 3));
    }

    /** Answers a command addressed to a LUN this target does not have (SPC-4 4.6.4). */
    public static void noSuchLun(ScsiTask t, int[] luns) {
        switch (t.opcode()) {
            case ScsiOpcode.INQUIRY -> inquiryNoLun(t);
            case ScsiOpcode.REPORT_LUNS -> reportLuns(t, luns);
            case ScsiOpcode.REQUEST_SENSE -> {
                byte[] out = SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED)
                        .encodeFixed();
                t.returnData(out, out.length, Bytes.u8(t.cdb(), 4));
            }
            default -> t.fail(ScsiStatus.CHECK_CONDITION,
                    SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED));
        }
    }

    /** REPORT LUNS, served by the target for every LUN including nonexistent ones. */
    public static void reportLuns(ScsiTask t, int[] luns) {
        byte[] cdb = t.cdb();
        int select = Bytes.u8(cdb, 2);
        long allocation = Bytes.u32(cdb, 6);
        if (select > 2) {
            t.fail(ScsiStatusException.invalidCdb(2, -1));
            return;
        }
        if (allocation < 16) {
            t.fail(ScsiStatusException.invalidCdb(6, -1));
            return;
        }
        byte[] out = new byte[8 + 8 * luns.length];
        Bytes.put32(out, 0, 8L * luns.length);
        for (int i = 0; i < luns.length; i++) {
            Bytes.put64(out, 8 + 8 * i, Luns.encode(luns[i]));
        }
        t.returnData(out, out.length, allocation);
    }
}
