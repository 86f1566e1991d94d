package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;

import java.io.ByteArrayOutputStream;

/** MODE SENSE (6) and (10) data: caching, control and informational exceptions pages. */
final class ModePages {

    private static final int CACHING = 0x08;
    private static final int CONTROL = 0x0a;
    private static final int INFORMATIONAL_EXCEPTIONS = 0x1c;
    private static final int ALL_PAGES = 0x3f;

    private final boolean readOnly;
    private final boolean writeCache;

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
        int deviceSpecific = (readOnly ? 0x80 : 0) | 0x10; // WP, DPOFUA
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

    private static byte[] blockDescriptor(boolean longLba, long blocks, int blockSize) {
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

    private static byte[] control(boolean changeable) {
        byte[] p = new byte[12];
        p[0] = CONTROL;
        p[1] = 10;
        if (!changeable) {
            p[3] = 0x10; // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering allowed
            Bytes.put16(p, 8, 0xffff); // BUSY TIMEOUT PERIOD: unlimited
        }
        return p;
    }

    private static byte[] informationalExceptions() {
        byte[] p = new byte[12];
        p[0] = INFORMATIONAL_EXCEPTIONS;
        p[1] = 10;
        return p;
    }
}
