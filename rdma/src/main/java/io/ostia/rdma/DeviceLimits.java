package io.ostia.rdma;

/**
 * Limits of a device ({@code struct ibv_device_attr}) that size queue pairs and queues.
 *
 * @param maxQueuePairWorkRequests most outstanding work requests per queue of a queue pair
 * @param maxScatterGather most scatter/gather entries per work request
 * @param maxCompletionQueueEntries largest completion queue capacity
 * @param maxMemoryRegionSize largest memory region, in bytes
 */
public record DeviceLimits(int maxQueuePairWorkRequests, int maxScatterGather, int maxCompletionQueueEntries,
                           long maxMemoryRegionSize) {
}
