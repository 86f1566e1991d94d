package io.ostia.rdma;

/**
 * Whether native RDMA can be used in this JVM, and why not. On a machine without RDMA this says
 * so plainly (no device, or the library is missing) and nothing else fails.
 */
public final class RdmaAvailability {
    private RdmaAvailability() {
    }

    public static boolean isAvailable() {
        return RdmaProviders.byName(RdmaProviders.NATIVE).isAvailable();
    }

    /** Why native RDMA is unavailable, or null. */
    public static Throwable unavailabilityCause() {
        return RdmaProviders.byName(RdmaProviders.NATIVE).unavailabilityCause();
    }

    /**
     * @throws RdmaException naming the cause if native RDMA is unavailable
     */
    public static void ensureAvailability() {
        RdmaProviders.byName(RdmaProviders.NATIVE).ensureAvailability();
    }
}
