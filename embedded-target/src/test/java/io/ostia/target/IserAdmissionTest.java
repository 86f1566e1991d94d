package io.ostia.target;

import io.ostia.rdma.CmEventType;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.rdma.loopback.WorkMatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The iSER portal admits connections as the TCP portal does (issue 12): a cap on all connections
 * and one per address, a connection counting until its thread freed its queue pair, regions and
 * buffers, and refusals logged once per interval. On a loopback fabric with a second device, so
 * that two peer addresses exist.
 */
class IserAdmissionTest {

    private static final String IQN = "iqn.2026-01.io.ostia:iser-admission";
    private static final int MAX = 3;
    private static final int PER_ADDRESS = 2;

    private LoopbackFabric fabric;
    private IscsiTarget target;
    private InetSocketAddress portal;
    private InetSocketAddress other;
    private final Refusals refusals = new Refusals();
    private final Logger admissionLog = Logger.getLogger("io.ostia.target.internal.iscsi.ConnectionAdmission");

    @BeforeEach
    void start() throws Exception {
        fabric = LoopbackFabric.create();
        fabric.addDevice("lo1", InetAddress.getByName("127.0.0.2"));
        other = new InetSocketAddress("127.0.0.2", 0);
        target = IscsiTarget.builder().iserPortal("127.0.0.1", 0, fabric).logoutGrace(Duration.ZERO)
                .maxConnections(MAX, PER_ADDRESS).target(IQN, t -> t.ramLun(1 << 20)).build().start();
        portal = target.addresses().getFirst();
        admissionLog.addHandler(refusals);
    }

    @AfterEach
    void stop() {
        admissionLog.removeHandler(refusals);
        target.close();
        assertEquals(List.of(), fabric.openObjects(), "the target closed every RDMA object");
        fabric.close();
    }

    private IserTestInitiator accepted(InetSocketAddress source, long isid) throws Exception {
        IserTestInitiator client = new IserTestInitiator(fabric, source, portal, isid, CmEventType.ESTABLISHED);
        assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass(), "login status");
        return client;
    }

    private void refused(InetSocketAddress source) throws Exception {
        new IserTestInitiator(fabric, source, portal, 0x24_0000_00ffL, CmEventType.REJECTED).close();
    }

    @Test
    void capsRefusePastTheLimitsAndAConnectionCountsUntilItsResourcesAreFreed() throws Exception {
        try (IserTestInitiator a = accepted(null, 0x24_0000_0001L);
             IserTestInitiator b = accepted(null, 0x24_0000_0002L)) {
            // The per-address cap: a third from 127.0.0.1 is refused, one from 127.0.0.2 is not.
            refused(null);
            try (IserTestInitiator c = accepted(other, 0x24_0000_0003L)) {
                // The total cap, from an address under its own cap.
                refused(other);
                refused(other);
                assertEquals(1, refusals.count.get(), "three refusals within the interval log one line");

                // a's target side cannot finish freeing while its RDMA Read's completion is held.
                fabric.holdCompletions(WorkMatch.any().kind(WorkCompletionOpcode.RDMA_READ));
                a.write(0, 8, 0, 0);
                Thread.sleep(200); // the target has posted its RDMA Read
                a.close();
                Thread.sleep(200); // the target has seen the disconnect and waits for the held completion
                int held = fabric.openObjects().size();
                refused(other);
                assertEquals(1, refusals.count.get(), "still one line: the refusals are within the interval");

                assertEquals(1, fabric.releaseCompletions(false), "a's RDMA Read was held");
                awaitAccepted(other, held);
            }
        }
    }

    /**
     * Waits for the fabric to hold fewer than {@code held} objects (the target freed the closed
     * connection), then connects from {@code source} until accepted (its place comes back), within 5 s.
     */
    private void awaitAccepted(InetSocketAddress source, int held) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (fabric.openObjects().size() >= held) {
            assertTrue(System.nanoTime() - deadline < 0, "the target did not free the closed connection within 5 s");
            Thread.sleep(10);
        }
        while (true) {
            try (IserTestInitiator client = new IserTestInitiator(fabric, source, portal, 0x24_0000_0004L, null)) {
                if (client.established()) {
                    assertEquals(0, client.login(IQN, IserTestInitiator.iserKeys()).statusClass(), "login status");
                    return;
                }
            }
            assertTrue(System.nanoTime() - deadline < 0, "no place came back within 5 s of the release");
            Thread.sleep(20);
        }
    }

    private static final class Refusals extends Handler {
        final AtomicInteger count = new AtomicInteger();

        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue() && record.getMessage().contains("refusing")) {
                count.incrementAndGet();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
