package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;

import java.io.ByteArrayOutputStream;

/**
 * MODE SENSE (6) and (10) data: caching, control and informational exceptions pages; and MODE
 * SELECT (6) and (10), which may change only the control page's SWP (software write protect)
 * bit. The pages are the logical unit's, shared by every I_T nexus (TST 0). Thread-safe.
 */
final class ModePages {

    private static final int CACHING = 0x08;
    private static final int CONTROL = 0x0a;
    private static final int INFORMATIONAL_EXCEPTIONS = 0x1c;
    private static final int ALL_PAGES = 0x3f;

    /** Control page byte 4: SWP, the one bit MODE SELECT may change. */
    private static final int SWP = 0x08;
    private static final AdditionalSense MODE_PARAMETERS_CHANGED = new AdditionalSense(0x2a, 0x01);

    private final boolean readOnly;
    private final boolean writeCache;
    private volatile boolean softwareWriteProtect;

    /**
     * @param writeCache whether completed writes may sit in a volatile cache until SYNCHRONIZE
     *                   CACHE (true for file stores, reported as WCE)
     */
    ModePages(boolean readOnly, boolean writeCache) {
        this.readOnly = readOnly;
        this.writeCache = writeCache;
    }

    byte[] sense(byte[] cdb, boolean ten, long blocks, int blockSize) throws ScsiStatusException {
        boolean dbd = (cdb[1] & 0x08) != 0;
        boolean longLba = ten && (cdb[1] & 0x10) != 0;
        int pageControl = (cdb[2] & 0xc0) >>> 6;
        int page = cdb[2] & 0x3f;
        int subpage = cdb[3] & 0xff;
        if (pageControl == 3) {
            throw ScsiStatusException.illegal(AdditionalSense.SAVING_PARAMETERS_NOT_SUPPORTED);
        }
        boolean changeable = pageControl == 1;
        if (subpage != 0 && !(page == ALL_PAGES && subpage == 0xff)) {
            throw ScsiStatusException.invalidCdb(3, -1);
        }
        ByteArrayOutputStream pages = new ByteArrayOutputStream();
        switch (page) {
            case CACHING -> pages.writeBytes(caching(changeable));
            case CONTROL -> pages.writeBytes(control(changeable));
            case INFORMATIONAL_EXCEPTIONS -> pages.writeBytes(informationalExceptions());
            case ALL_PAGES -> {
                pages.writeBytes(caching(changeable));
                pages.writeBytes(control(changeable));
                pages.writeBytes(informationalExceptions());
            }
            default -> throw ScsiStatusException.invalidCdb(2, 5);
        }
        byte[] descriptor = dbd ? new byte[0] : blockDescriptor(longLba, blocks, blockSize);
        int header = ten ? 8 : 4;
        byte[] out = new byte[header + descriptor.length + pages.size()];
        int deviceSpecific = (writeProtected() ? 0x80 : 0) | 0x10; // WP, DPOFUA
        if (ten) {
            Bytes.put16(out, 0, out.length - 2);
            out[3] = (byte) deviceSpecific;
            out[4] = (byte) (descriptor.length == 16 ? 0x01 : 0);
            Bytes.put16(out, 6, descriptor.length);
        } else {
            out[0] = (byte) (out.length - 1);
            out[2] = (byte) deviceSpecific;
            out[3] = (byte) descriptor.length;
        }
        System.arraycopy(descriptor, 0, out, header, descriptor.length);
        byte[] pageBytes = pages.toByteArray();
        System.arraycopy(pageBytes, 0, out, header + descriptor.length, pageBytes.length);
        return out;
    }

    static byte[] blockDescriptor(boolean longLba, long blocks, int blockSize) {
        if (longLba) {
            byte[] d = new byte[16];
            Bytes.put64(d, 0, blocks);
            Bytes.put32(d, 12, blockSize);
            return d;
        }
        byte[] d = new byte[8];
        Bytes.put32(d, 0, Math.min(blocks, 0xffff_ffffL));
        Bytes.put32(d, 4, blockSize & 0xff_ffff);
        return d;
    }

    private byte[] caching(boolean changeable) {
        byte[] p = new byte[20];
        p[0] = CACHING;
        p[1] = 18;
        if (!changeable && writeCache) {
            p[2] = 0x04; // WCE
        }
        return p;
    }

    private byte[] control(boolean changeable) {
        byte[] p = new byte[12];
        p[0] = CONTROL;
        p[1] = 10;
        if (changeable) {
            p[4] = SWP;
        } else {
            p[3] = 0x10; // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering allowed
            p[4] = (byte) (softwareWriteProtect ? SWP : 0);
            Bytes.put16(p, 8, 0xffff); // BUSY TIMEOUT PERIOD: unlimited
        }
        return p;
    }

    /** Whether writes to the medium are refused: a read-only store, or SWP set by MODE SELECT. */
    boolean writeProtected() {
        return readOnly || softwareWriteProtect;
    }

    boolean softwareWriteProtected() {
        return softwareWriteProtect;
    }

    /**
     * MODE SELECT (6) or (10), SPC-4 §6.11: the parameter list must carry the current values of
     * every field except the changeable ones (only SWP). A change of SWP raises MODE PARAMETERS
     * CHANGED for every other I_T nexus (SPC-4 §7.5.1).
     */
    void select(ScsiTask t, boolean ten, long blocks, int blockSize, UnitAttentions unitAttentions)
            throws ScsiStatusException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x01) != 0) {
            throw ScsiStatusException.invalidCdb(1, 0); // SP: no saved pages
        }
        int length = ten ? Bytes.u16(cdb, 7) : Bytes.u8(cdb, 4);
        t.transferLength(length);
        if (length == 0) {
            return;
        }
        if ((cdb[1] & 0x10) == 0) {
            throw ScsiStatusException.invalidCdb(1, 4); // PF 0: vendor-specific pages, none here
        }
        int header = ten ? 8 : 4;
        if (length < header || t.dataOut().byteSize() < length) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] list = t.dataOut().asSlice(0, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int descriptorLength = ten ? Bytes.u16(list, 6) : Bytes.u8(list, 3);
        int off = header + descriptorLength;
        if (off > length) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (descriptorLength > 0) {
            // A block descriptor may only repeat the current block length (no reformatting).
            boolean longLba = ten && (list[4] & 0x01) != 0;
            byte[] current = blockDescriptor(longLba, blocks, blockSize);
            if (descriptorLength != current.length) {
                throw ScsiStatusException.invalidParameter(ten ? 6 : 3, -1);
            }
            int lengthAt = header + current.length - 3;
            if (Bytes.u24(list, lengthAt) != (blockSize & 0xff_ffff)) {
                throw ScsiStatusException.invalidParameter(lengthAt, -1);
            }
        }
        Boolean newSwp = null;
        while (off < length) {
            if (off + 2 > length) {
                throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            if ((list[off] & 0x40) != 0) {
                throw ScsiStatusException.invalidParameter(off, 6); // SPF: no subpages
            }
            int code = list[off] & 0x3f;
            byte[] current = switch (code) {
                case CACHING -> caching(false);
                case CONTROL -> control(false);
                case INFORMATIONAL_EXCEPTIONS -> informationalExceptions();
                default -> throw ScsiStatusException.invalidParameter(off, 5);
            };
            byte[] changeable = switch (code) {
                case CACHING -> caching(true);
                case CONTROL -> control(true);
                default -> new byte[current.length];
            };
            if (Bytes.u8(list, off + 1) != current.length - 2) {
                throw ScsiStatusException.invalidParameter(off + 1, -1);
            }
            if (off + current.length > length) {
                throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            for (int i = 2; i < current.length; i++) {
                if (((list[off + i] ^ current[i]) & ~changeable[i]) != 0) {
                    throw ScsiStatusException.invalidParameter(off + i, -1);
                }
            }
            if (code == CONTROL) {
                newSwp = (list[off + 4] & SWP) != 0;
            }
            off += current.length;
        }
        if (newSwp != null && newSwp != softwareWriteProtect) {
            softwareWriteProtect = newSwp;
            unitAttentions.raiseForOthers(t.nexus(), MODE_PARAMETERS_CHANGED);
        }
    }

    private static byte[] informationalExceptions() {
        byte[] p = new byte[12];
        p[0] = INFORMATIONAL_EXCEPTIONS;
        p[1] = 10;
        return p;
    }
}
