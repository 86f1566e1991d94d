package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The order of events in one test: what the transport logs (stops, flushes, releases, timeouts,
 * force-releases), what its owners hear (through a {@link RecordingOwner} on {@link #events}),
 * and marks the test adds. Log records become short names, so a test asserts an order such as
 * {@code stopped, flushed, released}.
 */
final class Journal implements AutoCloseable {

    final List<String> events = new CopyOnWriteArrayList<>();
    // Held strongly: java.util.logging keeps only weak references to loggers.
    private final Logger ostia = Logger.getLogger("io.ostia");
    private final Level previous = ostia.getLevel();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String name = name(record.getMessage());
            if (name != null) {
                events.add(name);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    Journal() {
        handler.setLevel(Level.ALL);
        ostia.setLevel(Level.ALL);
        ostia.addHandler(handler);
    }

    /** The short name of a transport log message, or null for messages no test orders. */
    private static String name(String message) {
        if (message == null) {
            return null;
        }
        if (message.startsWith("stopping (")) {
            return "stop begins";
        } else if (message.startsWith("stopped (")) {
            return "stopped";
        } else if (message.startsWith("flushed: ")) {
            return "flushed";
        } else if (message.startsWith("released ")) {
            return "released";
        } else if (message.contains("was not stopped within")) {
            return "stop wait timed out";
        } else if (message.contains("did not flush within")) {
            return "flush wait timed out";
        } else if (message.startsWith("force-releasing the endpoint")) {
            return "endpoint force-released";
        } else if (message.startsWith("force-releasing ")) {
            return "connection force-released";
        } else if (message.startsWith("cannot free ")) {
            return "free failed";
        } else if (message.contains(" event on ") && message.endsWith(" failed")) {
            return "event handler failed";
        } else if (message.contains("transport leaving")) {
            return "refusing connects";
        }
        return null;
    }

    /** A mark of the test's own. */
    void note(String event) {
        events.add(event);
    }

    /** The events of these names, in the order they happened. */
    List<String> only(String... names) {
        List<String> wanted = Arrays.asList(names);
        return events.stream().filter(wanted::contains).toList();
    }

    /** Asserts that the events of the names in {@code expected} happened exactly in that order. */
    void assertOrder(String... expected) {
        assertEquals(List.of(expected), only(expected), () -> "events of the test: " + events);
    }

    /** Waits (bounded) until {@code name} happened {@code times} times. */
    void await(String name, int times) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count(name) < times && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(times, count(name), () -> "times '" + name + "' happened; events: " + events);
    }

    long count(String name) {
        return events.stream().filter(name::equals).count();
    }

    @Override
    public void close() {
        ostia.removeHandler(handler);
        ostia.setLevel(previous);
    }
}
