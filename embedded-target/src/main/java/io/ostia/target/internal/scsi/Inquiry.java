package io.ostia.target.internal.scsi;

import java.nio.charset.StandardCharsets;

/** Standard INQUIRY data and the vital product data pages the logical unit serves. */
final class Inquiry {

    static final String VENDOR = "OSTIA";
    static final String PRODUCT = "EMBEDDED TARGET";
    static final String REVISION = "0001";
    static final int[] PAGES = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

    private Inquiry() {
    }

    /** @param peripheral byte 0: qualifier and device type (0x00 disk, 0x7f no LU) */
    static byte[] standard(int peripheral) {
        return standard(peripheral, false);
    }

    /** @param removable the RMB bit: the medium can be ejected */
    static byte[] standard(int peripheral, boolean removable) {
        byte[] out = new byte[66];
        out[0] = (byte) peripheral;
        out[1] = (byte) (removable ? 0x80 : 0);
        out[2] = 0x06; // SPC-4
        out[3] = 0x12; // HISUP, response data format 2
        out[4] = (byte) (out.length - 5);
        out[7] = 0x02; // CMDQUE
        Bytes.putAscii(out, 8, 8, VENDOR);
        Bytes.putAscii(out, 16, 16, PRODUCT);
        Bytes.putAscii(out, 32, 4, REVISION);
        Bytes.put16(out, 58, 0x00a0); // SAM-5
        Bytes.put16(out, 60, 0x0960); // iSCSI
        Bytes.put16(out, 62, 0x0460); // SPC-4
        Bytes.put16(out, 64, 0x04c0); // SBC-3
        return out;
    }

    private static byte[] page(int code, int length) {
        byte[] out = new byte[4 + length];
        out[1] = (byte) code;
        Bytes.put16(out, 2, length);
        return out;
    }

    static byte[] supportedPages() {
        byte[] out = page(0x00, PAGES.length);
        for (int i = 0; i < PAGES.length; i++) {
            out[4 + i] = (byte) PAGES[i];
        }
        return out;
    }

    static byte[] serialNumber(String serial) {
        byte[] s = serial.getBytes(StandardCharsets.US_ASCII);
        byte[] out = page(0x80, s.length);
        System.arraycopy(s, 0, out, 4, s.length);
        return out;
    }

    static byte[] deviceIdentification(byte[] naa, String serial, Nexus nexus) {
        byte[] vendorId = (String.format("%-8s", VENDOR) + serial).getBytes(StandardCharsets.US_ASCII);
        byte[] targetName = nexus == null ? new byte[0] : nexus.targetName().getBytes(StandardCharsets.UTF_8);
        int nameLength = nexus == null ? 0 : (targetName.length + 1 + 3) & ~3;
        int length = (4 + naa.length) + (4 + vendorId.length) + (4 + 4) + (nexus == null ? 0 : 4 + nameLength);
        byte[] out = page(0x83, length);
        int off = 4;
        // NAA, logical unit
        out[off] = 0x01;
        out[off + 1] = 0x03;
        out[off + 3] = (byte) naa.length;
        System.arraycopy(naa, 0, out, off + 4, naa.length);
        off += 4 + naa.length;
        // T10 vendor ID, logical unit
        out[off] = 0x02;
        out[off + 1] = 0x01;
        out[off + 3] = (byte) vendorId.length;
        System.arraycopy(vendorId, 0, out, off + 4, vendorId.length);
        off += 4 + vendorId.length;
        // Relative target port identifier, iSCSI target port
        out[off] = 0x51;
        out[off + 1] = (byte) 0x94;
        out[off + 3] = 4;
        Bytes.put16(out, off + 6, nexus == null ? 1 : Math.max(1, nexus.tpgt()));
        off += 8;
        if (nexus != null) {
            // SCSI name string, target device
            out[off] = 0x53;
            out[off + 1] = (byte) 0xa8;
            out[off + 3] = (byte) nameLength;
            System.arraycopy(targetName, 0, out, off + 4, targetName.length);
        }
        return out;
    }

    static byte[] blockLimits(int blockSize) {
        byte[] out = page(0xb0, 0x3c);
        out[5] = (byte) LogicalUnit.MAX_COMPARE_AND_WRITE_BLOCKS;
        Bytes.put16(out, 6, 1);
        Bytes.put32(out, 8, LogicalUnit.MAX_TRANSFER_BYTES / blockSize);
        Bytes.put32(out, 12, (128 << 10) / blockSize);
        Bytes.put32(out, 20, CommandTable.MAX_UNMAP_BLOCKS);
        Bytes.put32(out, 24, LogicalUnit.MAX_UNMAP_DESCRIPTORS);
        Bytes.put32(out, 28, 1);
        Bytes.put64(out, 36, CommandTable.MAX_WRITE_SAME_BLOCKS);
        // WRITE ATOMIC (16): as long as any transfer, no alignment or granularity rule.
        Bytes.put32(out, 44, LogicalUnit.MAX_ATOMIC_TRANSFER_BLOCKS);
        return out;
    }

    static byte[] blockDeviceCharacteristics() {
        byte[] out = page(0xb1, 0x3c);
        Bytes.put16(out, 4, 0x0001); // non-rotating medium
        out[7] = 0x50; // WABEREQ, WACEREQ 01b: blocks read back (as zeros) after a SANITIZE erase
        return out;
    }

    static byte[] logicalBlockProvisioning() {
        byte[] out = page(0xb2, 4);
        out[5] = (byte) 0xe4; // LBPU, LBPWS, LBPWS10, LBPRZ
        out[6] = 0x02; // thin provisioned
        return out;
    }
}
