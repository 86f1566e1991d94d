package io.ostia.rdma;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A CM event handler that queues what it gets, for tests to await. */
public final class CmEventRecorder implements CmEventHandler {
    public static final Duration WAIT = Duration.ofSeconds(5);
    /** How long to watch for an event or completion that must not come. */
    public static final Duration QUIET = Duration.ofMillis(200);

    private final LinkedBlockingQueue<CmEvent> events = new LinkedBlockingQueue<>();
    private final List<CmEvent> all = new ArrayList<>();

    @Override
    public synchronized void onEvent(CmEvent event) {
        all.add(event);
        events.add(event);
    }

    /** The next event, which must be of this type. */
    public CmEvent expect(CmEventType type) throws InterruptedException {
        CmEvent e = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(e, "no CM event within " + WAIT + "; expected " + type);
        assertEquals(type, e.type(), "unexpected event " + e);
        return e;
    }

    /** The next event within {@code wait}, or null. */
    public CmEvent next(Duration wait) throws InterruptedException {
        return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Asserts no event arrives within {@code quiet}. */
    public void expectNone(Duration quiet) throws InterruptedException {
        CmEvent e = events.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
        assertNull(e, "unexpected CM event");
    }

    public synchronized List<CmEventType> typesSoFar() {
        return all.stream().map(CmEvent::type).toList();
    }
}
