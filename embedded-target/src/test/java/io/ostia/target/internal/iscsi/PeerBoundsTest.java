package io.ostia.target.internal.iscsi;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The small pieces that bound what a peer can make the target spend (issue 12). */
class PeerBoundsTest {

    @Test
    void admissionCountsUntilReleasedAndCapsPerAddress() throws Exception {
        ConnectionAdmission admission = new ConnectionAdmission(3, 2);
        InetAddress a = InetAddress.getByName("127.0.0.1");
        InetAddress b = InetAddress.getByName("127.0.0.2");
        ConnectionAdmission.Ticket a1 = admission.admit(a, "test");
        assertNotNull(admission.admit(a, "test"));
        assertNull(admission.admit(a, "test"), "a third connection from one address is over its cap of 2");
        assertNotNull(admission.admit(b, "test"));
        assertNull(admission.admit(b, "test"), "a fourth connection is over the cap of 3");
        a1.release();
        a1.release();
        assertEquals(2, admission.total(), "a ticket released twice frees one place");
        assertNotNull(admission.admit(b, "test"));
    }

    @Test
    void chapFailuresAreThrottledPerNameAndAddress() throws Exception {
        ChapThrottle throttle = new ChapThrottle();
        String key = ChapThrottle.key("iqn.2026-12.io.ostia:guesser", "127.0.0.1:40000");
        assertEquals("iqn.2026-12.io.ostia:guesser@127.0.0.1", key, "the port is not part of the key");
        assertTrue(throttle.awaitTurn(key), "no failure yet: a turn at once");
        throttle.failed(key);
        long start = System.nanoTime();
        assertTrue(throttle.awaitTurn(key));
        assertTrue(System.nanoTime() - start >= ChapThrottle.FIRST_DELAY_NANOS, "the turn came after the delay");
        throttle.failed(key);
        start = System.nanoTime();
        assertTrue(throttle.awaitTurn(key));
        assertTrue(System.nanoTime() - start >= 2 * ChapThrottle.FIRST_DELAY_NANOS, "the delay doubled");
        throttle.succeeded(key);
        start = System.nanoTime();
        assertTrue(throttle.awaitTurn(key));
        assertTrue(System.nanoTime() - start < ChapThrottle.FIRST_DELAY_NANOS, "a success forgets the failures");
    }

    @Test
    void aRateLimitedLogWritesOneLinePerIntervalWithTheCount() throws Exception {
        List<String> lines = new ArrayList<>();
        RateLimitedLog log = new RateLimitedLog(new Recorder(lines), Duration.ofMillis(200));
        for (int i = 0; i < 1000; i++) {
            log.log(System.Logger.Level.WARNING, "bad peer");
        }
        assertEquals(List.of("bad peer"), lines);
        Thread.sleep(250);
        log.log(System.Logger.Level.WARNING, "bad peer");
        assertEquals(2, lines.size());
        assertTrue(lines.get(1).contains("999 more like this"), lines.get(1));
    }

    private record Recorder(List<String> lines) implements System.Logger {
        @Override
        public String getName() {
            return "recorder";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(format);
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            lines.add(msgSupplier.get());
        }
    }
}
