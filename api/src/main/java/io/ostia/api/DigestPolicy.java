package io.ostia.api;

/** What the initiator offers for HeaderDigest or DataDigest. */
public enum DigestPolicy {
    /** Offer None only. */
    NONE("None"),
    /** Offer CRC32C only: the login fails if the target will not use it. */
    REQUIRE_CRC32C("CRC32C"),
    /** Offer CRC32C,None: use CRC32C when the target accepts it. */
    PREFER_CRC32C("CRC32C,None"),
    /** Offer None,CRC32C: use no digest unless the target insists. */
    PREFER_NONE("None,CRC32C");

    private final String offer;

    DigestPolicy(String offer) {
        this.offer = offer;
    }

    /** The value to send in the login key. */
    public String offer() {
        return offer;
    }
}
