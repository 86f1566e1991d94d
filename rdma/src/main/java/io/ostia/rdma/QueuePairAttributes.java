package io.ostia.rdma;

import java.util.Objects;

/**
 * Sizes and completion queues of a new reliable-connected queue pair
 * ({@code struct ibv_qp_init_attr}).
 */
public record QueuePairAttributes(CompletionQueue sendCompletionQueue, CompletionQueue receiveCompletionQueue,
                                  int maxSendWorkRequests, int maxReceiveWorkRequests,
                                  int maxSendScatterGather, int maxReceiveScatterGather) {
    public QueuePairAttributes {
        Objects.requireNonNull(sendCompletionQueue, "sendCompletionQueue");
        Objects.requireNonNull(receiveCompletionQueue, "receiveCompletionQueue");
        requirePositive("maxSendWorkRequests", maxSendWorkRequests);
        requirePositive("maxReceiveWorkRequests", maxReceiveWorkRequests);
        requireEntries("maxSendScatterGather", maxSendScatterGather);
        requireEntries("maxReceiveScatterGather", maxReceiveScatterGather);
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, was " + value);
        }
    }

    private static void requireEntries(String name, int value) {
        if (value < 1 || value > ScatterGatherList.MAX_ENTRIES) {
            throw new IllegalArgumentException(
                    name + " must be within 1.." + ScatterGatherList.MAX_ENTRIES + ", was " + value);
        }
    }
}
