package io.ostia.rdma;

import java.util.Objects;

/**
 * Parameters of connect and accept ({@code struct rdma_conn_param}).
 *
 * @param privateData bytes the peer receives in its CONNECT_REQUEST or ESTABLISHED event (padded
 *     with zeros to the limit, see {@link CmEvent#privateData()}); at most
 *     {@link #MAX_CONNECT_PRIVATE_DATA} for connect and {@link #MAX_ACCEPT_PRIVATE_DATA} for accept
 * @param responderResources outstanding RDMA Reads the local side accepts (0..255)
 * @param initiatorDepth outstanding RDMA Reads the local side issues (0..255)
 * @param retryCount transport retries (0..7)
 * @param rnrRetryCount receiver-not-ready retries (0..7, 7 = retry forever) of the PEER's sends:
 *     the value given to connect governs the accepting side's sends, the one given to accept the
 *     connecting side's (rdma_connect(3); the CM carries each side's value to the other's queue pair)
 */
public record ConnectionParameters(byte[] privateData, int responderResources, int initiatorDepth,
                                   int retryCount, int rnrRetryCount) {
    /** InfiniBand limit of private data in a connect request (REQ). */
    public static final int MAX_CONNECT_PRIVATE_DATA = 56;
    /** InfiniBand limit of private data in an accept (REP). */
    public static final int MAX_ACCEPT_PRIVATE_DATA = 196;
    /** InfiniBand limit of private data in a reject (REJ). */
    public static final int MAX_REJECT_PRIVATE_DATA = 148;
    /** {@link #rnrRetryCount} that makes the sender wait for a receive forever. */
    public static final int RNR_RETRY_FOREVER = 7;

    public ConnectionParameters {
        privateData = privateData == null ? new byte[0] : privateData.clone();
        if (privateData.length > MAX_ACCEPT_PRIVATE_DATA) {
            throw new IllegalArgumentException("private data is " + privateData.length
                    + " bytes; at most " + MAX_ACCEPT_PRIVATE_DATA + " fit in a CM message");
        }
        checkRange("responderResources", responderResources, 255);
        checkRange("initiatorDepth", initiatorDepth, 255);
        checkRange("retryCount", retryCount, 7);
        checkRange("rnrRetryCount", rnrRetryCount, 7);
    }

    /** Defaults as iSER uses them: 1 outstanding read each way, 7 retries, RNR retry forever. */
    public static ConnectionParameters withPrivateData(byte[] privateData) {
        return new ConnectionParameters(Objects.requireNonNull(privateData, "privateData"), 1, 1, 7, RNR_RETRY_FOREVER);
    }

    public ConnectionParameters withRnrRetryCount(int count) {
        return new ConnectionParameters(privateData, responderResources, initiatorDepth, retryCount, count);
    }

    @Override
    public byte[] privateData() {
        return privateData.clone();
    }

    /** Throws if the private data does not fit in a connect request. */
    public void checkFitsConnect() {
        if (privateData.length > MAX_CONNECT_PRIVATE_DATA) {
            throw new IllegalArgumentException("connect private data is " + privateData.length
                    + " bytes; at most " + MAX_CONNECT_PRIVATE_DATA + " fit in a connect request");
        }
    }

    private static void checkRange(String name, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(name + " must be within 0.." + max + ", was " + value);
        }
    }
}
