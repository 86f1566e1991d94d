package io.ostia.api.scsi;

import java.util.OptionalLong;

/**
 * Decoded SCSI sense data (SPC-4 4.5), fixed or descriptor format.
 *
 * @param current      true for current errors (0x70/0x72), false for deferred ones (0x71/0x73)
 * @param key          the sense key
 * @param additional   ASC and ASCQ
 * @param information  the INFORMATION field when the target marked it valid
 * @param keySpecific  the three sense-key-specific bytes with SKSV set, or -1 when absent; for
 *                     ILLEGAL REQUEST they are a field pointer (see {@link #illegalRequest})
 */
public record SenseData(boolean current, SenseKey key, AdditionalSense additional,
                        OptionalLong information, int keySpecific) {

    /** Fixed-format sense is 18 bytes with the additional sense length of 10. */
    public static final int FIXED_LENGTH = 18;

    private static final int SKSV = 0x80_0000;

    public static SenseData of(SenseKey key, AdditionalSense additional) {
        return new SenseData(true, key, additional, OptionalLong.empty(), -1);
    }

    /**
     * An ILLEGAL REQUEST naming the offending byte (and bit, or -1) of the CDB or parameter list.
     */
    public static SenseData illegalRequest(AdditionalSense additional, boolean inCdb, int byteOffset, int bit) {
        int pointer = SKSV | (inCdb ? 0x40_0000 : 0) | (bit >= 0 ? 0x08_0000 | (bit & 7) << 16 : 0) | (byteOffset & 0xffff);
        return new SenseData(true, SenseKey.ILLEGAL_REQUEST, additional, OptionalLong.empty(), pointer);
    }

    /**
     * Decodes sense data as it follows the two-byte SenseLength in a SCSI Response data segment.
     *
     * @throws IllegalArgumentException naming what is malformed
     */
    public static SenseData decode(byte[] sense, int offset, int length) {
        if (length < 8) {
            throw new IllegalArgumentException("sense data too short: " + length + " bytes, need at least 8");
        }
        int responseCode = sense[offset] & 0x7f;
        switch (responseCode) {
            case 0x70, 0x71 -> {
                if (length < 14) {
                    throw new IllegalArgumentException("fixed-format sense data too short: " + length + " bytes, need 14");
                }
                boolean valid = (sense[offset] & 0x80) != 0;
                SenseKey key = SenseKey.of(sense[offset + 2]);
                long info = ((long) (sense[offset + 3] & 0xff) << 24) | (sense[offset + 4] & 0xff) << 16
                        | (sense[offset + 5] & 0xff) << 8 | (sense[offset + 6] & 0xff);
                AdditionalSense asc = new AdditionalSense(sense[offset + 12] & 0xff, sense[offset + 13] & 0xff);
                int pointer = -1;
                if (length >= 18 && (sense[offset + 15] & 0x80) != 0) {
                    pointer = (sense[offset + 15] & 0xff) << 16 | (sense[offset + 16] & 0xff) << 8 | (sense[offset + 17] & 0xff);
                }
                return new SenseData(responseCode == 0x70, key, asc,
                        valid ? OptionalLong.of(info) : OptionalLong.empty(), pointer);
            }
            case 0x72, 0x73 -> {
                SenseKey key = SenseKey.of(sense[offset + 1]);
                AdditionalSense asc = new AdditionalSense(sense[offset + 2] & 0xff, sense[offset + 3] & 0xff);
                int additionalLength = Math.min(sense[offset + 7] & 0xff, length - 8);
                OptionalLong info = OptionalLong.empty();
                int pointer = -1;
                for (int d = offset + 8; d + 2 <= offset + 8 + additionalLength; ) {
                    int type = sense[d] & 0xff;
                    int descriptorLength = sense[d + 1] & 0xff;
                    if (d + 2 + descriptorLength > offset + 8 + additionalLength) {
                        throw new IllegalArgumentException("sense descriptor type 0x" + Integer.toHexString(type)
                                + " at byte " + (d - offset) + " runs past the additional sense length");
                    }
                    if (type == 0x00 && descriptorLength >= 10 && (sense[d + 2] & 0x80) != 0) {
                        long value = 0;
                        for (int i = 0; i < 8; i++) {
                            value = value << 8 | (sense[d + 4 + i] & 0xff);
                        }
                        info = OptionalLong.of(value);
                    } else if (type == 0x02 && descriptorLength >= 6 && (sense[d + 4] & 0x80) != 0) {
                        pointer = (sense[d + 4] & 0xff) << 16 | (sense[d + 5] & 0xff) << 8 | (sense[d + 6] & 0xff);
                    }
                    d += 2 + descriptorLength;
                }
                return new SenseData(responseCode == 0x72, key, asc, info, pointer);
            }
            default -> throw new IllegalArgumentException(
                    String.format("unknown sense data response code 0x%02x", responseCode));
        }
    }

    /** Fixed-format encoding (18 bytes), as the embedded target returns it. */
    public byte[] encodeFixed() {
        byte[] out = new byte[FIXED_LENGTH];
        out[0] = (byte) ((current ? 0x70 : 0x71) | (information.isPresent() ? 0x80 : 0));
        out[2] = (byte) key.code();
        if (information.isPresent()) {
            long info = information.getAsLong();
            out[3] = (byte) (info >>> 24);
            out[4] = (byte) (info >>> 16);
            out[5] = (byte) (info >>> 8);
            out[6] = (byte) info;
        }
        out[7] = (byte) (FIXED_LENGTH - 8);
        out[12] = (byte) additional.asc();
        out[13] = (byte) additional.ascq();
        if (keySpecific != -1) {
            out[15] = (byte) (keySpecific >>> 16);
            out[16] = (byte) (keySpecific >>> 8);
            out[17] = (byte) keySpecific;
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(key.name()).append(": ").append(additional.description());
        if (!current) {
            s.append(" [deferred]");
        }
        information.ifPresent(i -> s.append(", information ").append(Long.toUnsignedString(i)));
        if (keySpecific != -1 && key == SenseKey.ILLEGAL_REQUEST) {
            s.append(", field ").append((keySpecific & 0x40_0000) != 0 ? "in CDB" : "in parameter list")
                    .append(" byte ").append(keySpecific & 0xffff);
            if ((keySpecific & 0x08_0000) != 0) {
                s.append(" bit ").append(keySpecific >>> 16 & 7);
            }
        }
        return s.toString();
    }
}
