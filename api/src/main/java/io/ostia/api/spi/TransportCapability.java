package io.ostia.api.spi;

/** What a transport can do beyond carrying PDUs; the session layer negotiates accordingly. */
public enum TransportCapability {
    /** CRC32C header digests (TCP). */
    HEADER_DIGEST,
    /** CRC32C data digests (TCP). */
    DATA_DIGEST,
    /**
     * iSER-assisted mode (RFC 7145): negotiate RDMAExtensions=Yes and the iSER keys; data moves
     * by RDMA, so no R2T or Data-In reaches the session layer.
     */
    RDMA_EXTENSIONS
}
