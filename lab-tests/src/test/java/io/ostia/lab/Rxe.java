package io.ostia.lab;

import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The lab guest's Soft-RoCE device as the in-guest iSER tests use it: the native provider on
 * {@code rxe0}, whose netdev ({@code dummy0}) has the address the lab passes as
 * {@code ostia.rdma.test.address}.
 */
public final class Rxe {

    /** The verbs device and its netdev, as the guest's init makes them. */
    static final String DEVICE = "rxe0";
    static final String NETDEV = "dummy0";

    private Rxe() {
    }

    /**
     * The address of rxe0's netdev; skips the calling test (saying why) outside the lab's guest:
     * without a native RDMA device, or without the address.
     */
    public static String address() {
        RdmaProvider provider = RdmaProviders.byName(RdmaProviders.NATIVE);
        assumeTrue(provider.isAvailable(), () -> "no native RDMA device (not in the lab's guest?): "
                + provider.unavailabilityCause().getMessage());
        String address = System.getProperty("ostia.rdma.test.address");
        assumeTrue(address != null, "ostia.rdma.test.address is not set: the lab's guest sets it to rxe0's address");
        return address;
    }

    /** The native provider, after {@link #address()} found it usable. */
    public static RdmaProvider provider() {
        return RdmaProviders.byName(RdmaProviders.NATIVE);
    }
}
