package io.ostia.rdma;

/**
 * An open RDMA device ({@code struct ibv_context}). Devices belong to the provider: a
 * {@link CmId} hands out the device its address resolved to, and it stays valid until the
 * provider closes or the device is removed ({@link CmEventType#DEVICE_REMOVAL}).
 */
public interface RdmaDevice {
    /** The device name, for example {@code mlx5_0} or {@code rxe0}. */
    String name();

    /** The device's limits, for sizing queue pairs and completion queues. */
    DeviceLimits limits();

    /** Whether the device has been removed; creating objects on it then fails. */
    boolean isRemoved();

    /** Allocates a protection domain; the caller owns it. */
    ProtectionDomain allocateProtectionDomain();

    /**
     * Creates a completion queue with its own completion notification channel; the caller owns it.
     *
     * @param capacity the number of completions it holds, at least 1
     */
    CompletionQueue createCompletionQueue(int capacity);
}
