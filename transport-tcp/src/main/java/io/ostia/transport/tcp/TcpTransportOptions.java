package io.ostia.transport.tcp;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a TCP transport.
 *
 * @param releaseTimeout    how long leaving waits for owners to release their connections
 *                          before force-releasing them; also bounds each wait for a reader
 *                          thread to end
 * @param connectTimeout    how long a connect may take in total, however often it is polled
 * @param progressTimeout   how long a send may go without the socket taking a byte, and how
 *                          long the transport waits for the session's parameters after the
 *                          final login response, before the connection is failed
 * @param sendBufferSize    SO_SNDBUF in bytes; 0 leaves the kernel's auto-tuning on
 * @param receiveBufferSize SO_RCVBUF in bytes; 0 leaves the kernel's auto-tuning on
 */
public record TcpTransportOptions(Duration releaseTimeout, Duration connectTimeout, Duration progressTimeout,
        int sendBufferSize, int receiveBufferSize) {

    public TcpTransportOptions {
        positive("releaseTimeout", releaseTimeout);
        positive("connectTimeout", connectTimeout);
        positive("progressTimeout", progressTimeout);
        if (sendBufferSize < 0) {
            throw new IllegalArgumentException("sendBufferSize " + sendBufferSize + " is negative (0 = kernel default)");
        }
        if (receiveBufferSize < 0) {
            throw new IllegalArgumentException("receiveBufferSize " + receiveBufferSize
                    + " is negative (0 = kernel default)");
        }
    }

    /**
     * 10 s release and connect timeouts, 30 s progress timeout, kernel-tuned socket buffers:
     * Linux grows auto-tuned buffers with the connection's bandwidth-delay product, and a fixed
     * SO_RCVBUF would switch that off.
     */
    public static TcpTransportOptions defaults() {
        return new TcpTransportOptions(Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(30), 0, 0);
    }

    public TcpTransportOptions withReleaseTimeout(Duration timeout) {
        return new TcpTransportOptions(timeout, connectTimeout, progressTimeout, sendBufferSize, receiveBufferSize);
    }

    public TcpTransportOptions withConnectTimeout(Duration timeout) {
        return new TcpTransportOptions(releaseTimeout, timeout, progressTimeout, sendBufferSize, receiveBufferSize);
    }

    public TcpTransportOptions withProgressTimeout(Duration timeout) {
        return new TcpTransportOptions(releaseTimeout, connectTimeout, timeout, sendBufferSize, receiveBufferSize);
    }

    public TcpTransportOptions withSocketBuffers(int sendBytes, int receiveBytes) {
        return new TcpTransportOptions(releaseTimeout, connectTimeout, progressTimeout, sendBytes, receiveBytes);
    }

    private static void positive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " " + value + " must be positive");
        }
    }
}
