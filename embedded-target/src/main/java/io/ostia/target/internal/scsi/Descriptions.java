package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiOpcode;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;

/**
 * The commands that describe a logical unit rather than move its blocks: INQUIRY and its VPD
 * pages, READ CAPACITY, REQUEST SENSE, REPORT SUPPORTED OPERATION CODES, READ DEFECT DATA.
 */
final class Descriptions {

    private final long blocks;
    private final int blockSize;
    private final int physicalBlockExponent;
    private final boolean removable;
    private final String serial;
    private final byte[] naa;
    private final UnitAttentions unitAttentions;

    Descriptions(long blocks, int blockSize, int physicalBlockExponent, boolean removable, String serial,
            byte[] naa, UnitAttentions unitAttentions) {
        this.removable = removable;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.physicalBlockExponent = physicalBlockExponent;
        this.serial = serial;
        this.naa = naa;
        this.unitAttentions = unitAttentions;
    }

    void readCapacity10(ScsiTask t) {
        byte[] out = new byte[8];
        Bytes.put32(out, 0, Math.min(blocks - 1, 0xffff_ffffL));
        Bytes.put32(out, 4, blockSize);
        t.returnData(out, 8, 8);
    }

    void readCapacity16(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x1f) != ScsiOpcode.SA_READ_CAPACITY_16) {
            throw ScsiStatusException.invalidCdb(1, 4);
        }
        byte[] out = new byte[32];
        Bytes.put64(out, 0, blocks - 1);
        Bytes.put32(out, 8, blockSize);
        out[13] = (byte) physicalBlockExponent; // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
        out[14] = (byte) 0xc0; // LBPME (UNMAP and WRITE SAME deallocate), LBPRZ (deallocated blocks read zero)
        t.returnData(out, 32, Bytes.u32(cdb, 10));
    }

    void requestSense(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        boolean descriptor = (cdb[1] & 0x01) != 0;
        AdditionalSense ua = unitAttentions.take(t.nexus());
        SenseData sense = ua == null ? SenseData.of(SenseKey.NO_SENSE, AdditionalSense.NONE)
                : SenseData.of(SenseKey.UNIT_ATTENTION, ua);
        byte[] out;
        if (descriptor) {
            out = new byte[8];
            out[0] = 0x72;
            out[1] = (byte) sense.key().code();
            out[2] = (byte) sense.additional().asc();
            out[3] = (byte) sense.additional().ascq();
        } else {
            out = sense.encodeFixed();
        }
        t.returnData(out, out.length, Bytes.u8(cdb, 4));
    }

    void inquiry(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x02) != 0) {
            throw ScsiStatusException.invalidCdb(1, 1); // CMDDT is obsolete
        }
        long allocation = Bytes.u16(cdb, 3);
        boolean evpd = (cdb[1] & 0x01) != 0;
        int page = Bytes.u8(cdb, 2);
        if (!evpd) {
            if (page != 0) {
                throw ScsiStatusException.invalidCdb(2, -1);
            }
            byte[] out = Inquiry.standard(0x00, removable);
            t.returnData(out, out.length, allocation);
            return;
        }
        byte[] out = switch (page) {
            case 0x00 -> Inquiry.supportedPages();
            case 0x80 -> Inquiry.serialNumber(serial);
            case 0x83 -> Inquiry.deviceIdentification(naa, serial, t.nexus());
            case 0xb0 -> Inquiry.blockLimits(blockSize);
            case 0xb1 -> Inquiry.blockDeviceCharacteristics();
            case 0xb2 -> Inquiry.logicalBlockProvisioning();
            default -> throw ScsiStatusException.invalidCdb(2, -1);
        };
        t.returnData(out, out.length, allocation);
    }

    static void reportSupportedOperationCodes(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x1f) != ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES) {
            throw ScsiStatusException.invalidCdb(1, 4);
        }
        byte[] out = CommandTable.report(cdb);
        t.returnData(out, out.length, Bytes.u32(cdb, 6));
    }

    /**
     * READ DEFECT DATA (10) and (12): memory and files have no defects, so the header alone, with
     * the list format asked for and an empty list (SBC-3 §5.12).
     */
    static void readDefectData(ScsiTask t, boolean twelve) {
        byte[] cdb = t.cdb();
        int flags = cdb[twelve ? 1 : 2] & 0x1f; // REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT
        byte[] out = new byte[twelve ? 8 : 4];
        out[1] = (byte) flags;
        t.returnData(out, out.length, twelve ? Bytes.u32(cdb, 6) : Bytes.u16(cdb, 7));
    }
}
