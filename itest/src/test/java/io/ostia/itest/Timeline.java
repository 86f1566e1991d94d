package io.ostia.itest;

import io.ostia.api.spi.IscsiTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;

/**
 * One ordered record of what the bundles did, seen from outside: the transport service's events
 * (with a snapshot of whatever the test wants to know at that instant, taken synchronously in
 * the listener) and the log records of Ostia's loggers, each with a sequence number.
 */
final class Timeline implements AutoCloseable {

    /** One thing that happened, in the order {@link #seq} says. */
    record Entry(int seq, long nanos, String what) {
        @Override
        public String toString() {
            return seq + " " + what;
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final BundleContext context;
    private final ServiceListener listener;
    // Held strongly: java.util.logging keeps only weak references to loggers.
    private final Logger ostiaLogger = Logger.getLogger("io.ostia");
    private final Handler handler;

    /**
     * Starts recording. {@code snapshot} runs inside the listener when a transport service is
     * registered or unregistering, so it shows the state at that very moment.
     */
    Timeline(BundleContext context, Supplier<String> snapshot) throws InvalidSyntaxException {
        this.context = context;
        this.listener = event -> {
            String kind = switch (event.getType()) {
                case ServiceEvent.REGISTERED -> "REGISTERED";
                case ServiceEvent.UNREGISTERING -> "UNREGISTERING";
                case ServiceEvent.MODIFIED -> "MODIFIED";
                default -> "event " + event.getType();
            };
            add("service " + kind + " " + event.getServiceReference().getProperty(IscsiTransport.NAME_PROPERTY)
                    + " [" + snapshot.get() + "]");
        };
        context.addServiceListener(listener, "(objectClass=" + IscsiTransport.class.getName() + ")");
        this.handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                add("log " + r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        ostiaLogger.addHandler(handler);
    }

    synchronized void add(String what) {
        entries.add(new Entry(entries.size(), System.nanoTime(), what));
    }

    synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** The first entry containing {@code text}; fails listing the whole timeline when there is none. */
    synchronized Entry first(String text) {
        for (Entry e : entries) {
            if (e.what().contains(text)) {
                return e;
            }
        }
        throw new AssertionError("nothing containing \"" + text + "\" happened; the timeline:\n" + this);
    }

    synchronized boolean contains(String text) {
        return entries.stream().anyMatch(e -> e.what().contains(text));
    }

    /** Asserts that the first entries containing each text came in this order. */
    void assertOrder(String... texts) {
        Entry previous = null;
        for (String text : texts) {
            Entry e = first(text);
            if (previous != null && e.seq() <= previous.seq()) {
                throw new AssertionError("\"" + text + "\" (#" + e.seq() + ") should have come after \""
                        + previous.what() + "\" (#" + previous.seq() + "); the timeline:\n" + this);
            }
            previous = e;
        }
    }

    @Override
    public synchronized String toString() {
        StringBuilder b = new StringBuilder();
        long t0 = entries.isEmpty() ? 0 : entries.getFirst().nanos();
        for (Entry e : entries) {
            b.append(String.format("  #%d +%d ms %s%n", e.seq(), (e.nanos() - t0) / 1_000_000, e.what()));
        }
        return b.toString();
    }

    @Override
    public void close() {
        context.removeServiceListener(listener);
        ostiaLogger.removeHandler(handler);
    }
}
