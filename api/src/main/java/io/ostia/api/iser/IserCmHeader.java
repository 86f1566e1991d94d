package io.ostia.api.iser;

/**
 * The iSER private data of the RDMA CM connect request (IBTA Annex A12; Linux {@code struct
 * iser_cm_hdr}): one flags byte and three reserved bytes. On InfiniBand and RoCE it takes the
 * place of the Hello exchange.
 *
 * @param zeroBasedVirtualAddressNotSupported the sender cannot use zero-based virtual addresses
 *        (Base Offsets are then addresses, as in Ostia's and Linux's initiator)
 * @param sendWithInvalidateNotSupported the sender cannot take Send with Invalidate
 */
public record IserCmHeader(boolean zeroBasedVirtualAddressNotSupported, boolean sendWithInvalidateNotSupported) {

    /** The private data is four bytes. */
    public static final int LENGTH = 4;
    /** ZBVA not supported. */
    public static final int ZBVA_NOT_SUPPORTED = 0x80;
    /** Send with Invalidate not supported. */
    public static final int SEND_WITH_INVALIDATE_NOT_SUPPORTED = 0x40;

    public int flags() {
        return (zeroBasedVirtualAddressNotSupported ? ZBVA_NOT_SUPPORTED : 0)
                | (sendWithInvalidateNotSupported ? SEND_WITH_INVALIDATE_NOT_SUPPORTED : 0);
    }

    /** The four bytes to give the connect request as private data. */
    public byte[] encode() {
        return new byte[] {(byte) flags(), 0, 0, 0};
    }

    /**
     * Reads the header from the start of received private data. The CM pads private data to its
     * own fixed length, so only the first {@link #LENGTH} bytes are read and the rest is ignored.
     *
     * @throws IserFormatException if fewer than {@link #LENGTH} bytes came
     */
    public static IserCmHeader decode(byte[] privateData) throws IserFormatException {
        if (privateData.length < LENGTH) {
            throw new IserFormatException("PrivateData", "iSER CM private data of " + privateData.length
                    + " bytes is shorter than the " + LENGTH + "-byte iser_cm_hdr");
        }
        int flags = privateData[0];
        return new IserCmHeader((flags & ZBVA_NOT_SUPPORTED) != 0, (flags & SEND_WITH_INVALIDATE_NOT_SUPPORTED) != 0);
    }
}
