package io.ostia.transport.tcp.internal;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh transport and {@link FakeTarget} per test, and after each test the check that the
 * transport, once closed, left no receive thread, descriptor or endpoint behind.
 */
abstract class FakeTargetTestBase {

    static final Duration WAIT = FakeSession.WAIT;

    TcpTransport transport;
    FakeTarget target;
    private Leaks.Baseline before;

    @BeforeAll
    static void warmUp() throws Exception {
        Leaks.warmUp();
    }

    /** The transport under test; its leave action is the subclass's to choose. */
    abstract TcpTransport newTransport();

    @BeforeEach
    final void open() throws Exception {
        before = Leaks.baseline();
        transport = newTransport();
        target = new FakeTarget();
    }

    @AfterEach
    final void closeAndCheckNothingLeaks() throws Exception {
        transport.close();
        target.close();
        before.assertNothingLeft(transport);
    }

    int receiveThreadsBefore() {
        return before.threads();
    }
}
