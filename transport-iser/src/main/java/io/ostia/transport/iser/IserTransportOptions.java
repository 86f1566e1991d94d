package io.ostia.transport.iser;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the iSER transport.
 *
 * @param provider the RDMA provider: {@code native} (libibverbs) or {@code loopback} (in-JVM fabric)
 * @param releaseTimeout how long leaving waits for sessions to move off, and how long a release
 *        waits for the connection's stop and then for the flush of its work requests
 * @param connectTimeout how long address and route resolution may each take
 * @param maxQueueDepth the most tasks one connection carries: sizes the queue pair and completion
 *        queue, which exist before the session says its queue depth; a connection asking for more
 *        is refused
 * @param receiveDataSegmentLength the data segment each posted receive holds, declared as
 *        InitiatorRecvDataSegmentLength (at least 8192: login responses may be that long)
 * @param maxUnexpectedPdus receives posted beyond one per task, for PDUs the target sends
 *        unasked (NOP-In, Async Message, Reject), declared as MaxOutstandingUnexpectedPDUs
 */
public record IserTransportOptions(String provider, Duration releaseTimeout, Duration connectTimeout,
        int maxQueueDepth, int receiveDataSegmentLength, int maxUnexpectedPdus) {

    /**
     * The system property naming the RDMA provider of the transport {@link java.util.ServiceLoader}
     * makes on the module path ({@code native} unless set; the command line sets {@code loopback}
     * when there is no RDMA device).
     */
    public static final String PROVIDER_PROPERTY = "io.ostia.transport.iser.provider";

    /** RFC 7143's login limit: a login response's data segment may be this long. */
    public static final int LOGIN_DATA_SEGMENT_LENGTH = 8192;

    public IserTransportOptions {
        Objects.requireNonNull(provider, "provider");
        positive("releaseTimeout", releaseTimeout);
        positive("connectTimeout", connectTimeout);
        if (maxQueueDepth < 1 || maxQueueDepth > 4096) {
            throw new IllegalArgumentException("maxQueueDepth " + maxQueueDepth + " is outside 1..4096");
        }
        if (receiveDataSegmentLength < LOGIN_DATA_SEGMENT_LENGTH || receiveDataSegmentLength > 0xff_ffff) {
            throw new IllegalArgumentException("receiveDataSegmentLength " + receiveDataSegmentLength
                    + " is outside " + LOGIN_DATA_SEGMENT_LENGTH + "..16777215");
        }
        if (maxUnexpectedPdus < 2 || maxUnexpectedPdus > 1024) {
            throw new IllegalArgumentException("maxUnexpectedPdus " + maxUnexpectedPdus
                    + " is outside 2..1024 (RFC 7145 allows 0 = unlimited, which no fixed receive pool can keep)");
        }
    }

    /** The native provider, 10 s timeouts, 128 tasks, 8 KiB receives, 4 unexpected PDUs. */
    public static IserTransportOptions defaults() {
        return new IserTransportOptions("native", Duration.ofSeconds(10), Duration.ofSeconds(10), 128,
                LOGIN_DATA_SEGMENT_LENGTH, 4);
    }

    public IserTransportOptions withProvider(String name) {
        return new IserTransportOptions(name, releaseTimeout, connectTimeout, maxQueueDepth, receiveDataSegmentLength,
                maxUnexpectedPdus);
    }

    public IserTransportOptions withReleaseTimeout(Duration timeout) {
        return new IserTransportOptions(provider, timeout, connectTimeout, maxQueueDepth, receiveDataSegmentLength,
                maxUnexpectedPdus);
    }

    public IserTransportOptions withMaxQueueDepth(int depth) {
        return new IserTransportOptions(provider, releaseTimeout, connectTimeout, depth, receiveDataSegmentLength,
                maxUnexpectedPdus);
    }

    private static void positive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " " + value + " must be positive");
        }
    }
}
