package io.ostia.api.scsi;

import java.nio.charset.StandardCharsets;

/**
 * The fields of standard INQUIRY data (SPC-4 6.6.2) that identify a logical unit.
 *
 * @param peripheralQualifier 0 = connected, 1 = not connected now, 3 = no unit at this LUN
 * @param deviceType          peripheral device type (0 = direct access block device)
 * @param removable           RMB bit
 * @param version             claimed standard version
 * @param vendor              T10 vendor identification, trimmed
 * @param product             product identification, trimmed
 * @param revision            product revision level, trimmed
 */
public record InquiryData(int peripheralQualifier, int deviceType, boolean removable, int version,
                          String vendor, String product, String revision) {

    public static final int DIRECT_ACCESS_BLOCK_DEVICE = 0x00;
    public static final int STANDARD_LENGTH = 36;

    public static InquiryData parse(byte[] data, int length) {
        if (length < STANDARD_LENGTH) {
            throw new IllegalArgumentException("standard INQUIRY data is " + length + " bytes, need " + STANDARD_LENGTH);
        }
        return new InquiryData((data[0] & 0xff) >>> 5, data[0] & 0x1f, (data[1] & 0x80) != 0, data[2] & 0xff,
                ascii(data, 8, 8), ascii(data, 16, 16), ascii(data, 32, 4));
    }

    public boolean isConnectedBlockDevice() {
        return peripheralQualifier == 0 && deviceType == DIRECT_ACCESS_BLOCK_DEVICE;
    }

    private static String ascii(byte[] data, int offset, int length) {
        return new String(data, offset, length, StandardCharsets.US_ASCII).trim();
    }
}
