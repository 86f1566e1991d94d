package io.ostia.rdma.loopback;

import io.ostia.rdma.QueuePair;
import io.ostia.rdma.WorkCompletionOpcode;

import java.util.Objects;

/**
 * Which work a loopback fault applies to: work of one queue pair (or any), of one kind (or any),
 * counted in the order the fabric sees it; the first {@code skip} matches pass, the next
 * {@code count} get the fault, and the rest pass again. Start from {@link #any()}.
 *
 * <p>The kind is the opcode a successful completion of the work would report: {@code SEND},
 * {@code RDMA_WRITE}, {@code RDMA_READ}, or {@code RECV} for every receive; it matches flushed and
 * failed completions too, which report {@link WorkCompletionOpcode#UNKNOWN} themselves.
 *
 * @param queuePairNumber the queue pair's number, or {@link #ANY_QUEUE_PAIR}
 * @param kind the kind of work, or null for any
 * @param skip matches to let pass before the fault applies
 * @param count matches the fault applies to; {@link #UNLIMITED} for every one
 */
public record WorkMatch(int queuePairNumber, WorkCompletionOpcode kind, int skip, int count) {
    public static final int ANY_QUEUE_PAIR = -1;
    public static final int UNLIMITED = Integer.MAX_VALUE;

    public WorkMatch {
        if (kind == WorkCompletionOpcode.UNKNOWN || kind == WorkCompletionOpcode.RECV_RDMA_WITH_IMMEDIATE) {
            throw new IllegalArgumentException("match receives with RECV, and no work is of kind " + kind);
        }
        if (skip < 0) {
            throw new IllegalArgumentException("skip must not be negative, was " + skip);
        }
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, was " + count);
        }
    }

    /** Every work request and completion of every queue pair, without end. */
    public static WorkMatch any() {
        return new WorkMatch(ANY_QUEUE_PAIR, null, 0, UNLIMITED);
    }

    /** Only work of this queue pair. */
    public WorkMatch on(QueuePair queuePair) {
        return new WorkMatch(Objects.requireNonNull(queuePair, "queuePair").number(), kind, skip, count);
    }

    /** Only work of this kind. */
    public WorkMatch kind(WorkCompletionOpcode value) {
        return new WorkMatch(queuePairNumber, Objects.requireNonNull(value, "kind"), skip, count);
    }

    /** Lets the first {@code n} matches pass. */
    public WorkMatch skip(int n) {
        return new WorkMatch(queuePairNumber, kind, n, count);
    }

    /** Applies to {@code n} matches (after the skipped ones), then no more. */
    public WorkMatch count(int n) {
        return new WorkMatch(queuePairNumber, kind, skip, n);
    }

    /** Whether work of this queue pair and kind is selected, skip and count aside. */
    public boolean selects(int qpNumber, WorkCompletionOpcode workKind) {
        return (queuePairNumber == ANY_QUEUE_PAIR || queuePairNumber == qpNumber)
                && (kind == null || kind == workKind);
    }
}
