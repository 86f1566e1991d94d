package io.ostia.target.internal.iscsi;

import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The connection caps of a target: at most {@code max} connections in all and {@code perAddress}
 * from one IP address. A connection counts from accept until its {@link Ticket} is released,
 * which its transport does only after it freed everything the connection held (buffers, socket,
 * thread's work), so a churn of short connections cannot outgrow the cap.
 */
final class ConnectionAdmission {

    private static final System.Logger LOG = System.getLogger(ConnectionAdmission.class.getName());

    private final int max;
    private final int perAddress;
    private final Map<InetAddress, Integer> byAddress = new HashMap<>();
    private final RateLimitedLog refusals = new RateLimitedLog(LOG, Duration.ofSeconds(10));
    private int total;

    ConnectionAdmission(int max, int perAddress) {
        if (max < 1 || perAddress < 1) {
            throw new IllegalArgumentException("connection caps must be at least 1: " + max + ", " + perAddress);
        }
        this.max = max;
        this.perAddress = perAddress;
    }

    /** A held place for a connection from {@code address}, or null (logged, rate-limited) when a cap is reached. */
    Ticket admit(InetAddress address, String portal) {
        String refused;
        synchronized (this) {
            int fromAddress = byAddress.getOrDefault(address, 0);
            if (total >= max) {
                refused = "the limit of " + max + " connections";
            } else if (fromAddress >= perAddress) {
                refused = "the limit of " + perAddress + " connections from " + address.getHostAddress();
            } else {
                total++;
                byAddress.put(address, fromAddress + 1);
                return new Ticket(address);
            }
        }
        refusals.log(Level.WARNING, "portal " + portal + ": refusing a connection from " + address.getHostAddress()
                + ": " + refused + " is reached");
        return null;
    }

    synchronized int total() {
        return total;
    }

    /** One admitted connection's place; {@link #release()} is idempotent. */
    final class Ticket {
        private final InetAddress address;
        private final AtomicBoolean released = new AtomicBoolean();

        private Ticket(InetAddress address) {
            this.address = address;
        }

        void release() {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            synchronized (ConnectionAdmission.this) {
                total--;
                byAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
            }
        }
    }
}
