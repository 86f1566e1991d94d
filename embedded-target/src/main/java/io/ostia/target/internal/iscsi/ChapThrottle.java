package io.ostia.target.internal.iscsi;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down CHAP guessing: after a failed CHAP response from an initiator name at an IP
 * address, that pair's next response is checked only after a delay that starts at 100 ms and
 * doubles with each failure up to 2 s; a success forgets the pair. At most one response per pair
 * is checked per delay, however many connections bring them. Remembers at most
 * {@value #MAX_ENTRIES} pairs (the least recently used go first).
 */
final class ChapThrottle {

    static final long FIRST_DELAY_NANOS = 100_000_000L;
    static final long MAX_DELAY_NANOS = 2_000_000_000L;
    private static final int MAX_ENTRIES = 4096;

    private record State(long delayNanos, long untilNanos) {
    }

    private final Map<String, State> states = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, State> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    static String key(String initiatorName, String remoteAddress) {
        int port = remoteAddress.lastIndexOf(':');
        return initiatorName + '@' + (port > 0 ? remoteAddress.substring(0, port) : remoteAddress);
    }

    /**
     * Waits out the pair's delay (at most {@link #MAX_DELAY_NANOS}) and claims the right to have
     * one response checked; false when another attempt took it meanwhile (the caller refuses).
     */
    boolean awaitTurn(String key) throws InterruptedException {
        long wait = waitNanos(key);
        if (wait > 0) {
            Thread.sleep(Math.min(wait, MAX_DELAY_NANOS) / 1_000_000 + 1);
        }
        return claim(key);
    }

    private synchronized long waitNanos(String key) {
        State s = states.get(key);
        return s == null ? 0 : Math.max(0, s.untilNanos() - System.nanoTime());
    }

    private synchronized boolean claim(String key) {
        State s = states.get(key);
        if (s == null) {
            return true;
        }
        long now = System.nanoTime();
        if (now - s.untilNanos() < 0) {
            return false;
        }
        states.put(key, new State(s.delayNanos(), now + s.delayNanos()));
        return true;
    }

    synchronized void failed(String key) {
        State s = states.get(key);
        long delay = s == null ? FIRST_DELAY_NANOS : Math.min(MAX_DELAY_NANOS, s.delayNanos() * 2);
        states.put(key, new State(delay, System.nanoTime() + delay));
    }

    synchronized void succeeded(String key) {
        states.remove(key);
    }
}
