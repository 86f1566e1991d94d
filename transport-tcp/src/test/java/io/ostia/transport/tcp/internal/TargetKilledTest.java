package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.spi.StopMode;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tgtd killed while 4 MiB writes and reads are moving: one failure report, no hang, nothing left. */
class TargetKilledTest {

    @TempDir
    Path workDir;

    @Test
    void killingTheTargetMidIoFailsTheConnectionOnceAndLeavesNothing() throws Exception {
        Leaks.warmUp();
        Leaks.Baseline before = Leaks.baseline();
        TcpTransport transport = new TcpTransport(TcpTransportOptions.defaults(), () -> { });
        TgtdFixture tgtd = TgtdFixture.start(workDir, "killed");
        try (Arena arena = Arena.ofShared()) {
            TestInitiator initiator = new TestInitiator(transport, tgtd.address());
            initiator.login(tgtd.target.iqn(), TestInitiator.Offer.plain());
            MemorySegment data = TestInitiator.pattern(arena, 4 << 20, 7);
            Thread killer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                tgtd.server.kill();
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int commands = 0;
            while (initiator.owner.failures.isEmpty() && System.nanoTime() < deadline) {
                boolean read = commands % 2 == 1;
                try {
                    int itt = initiator.submit(read ? Cdb.read10(0, 8192) : Cdb.write10(0, 8192), read, !read, data);
                    commands++;
                    awaitStatusOrFailure(initiator, itt, deadline);
                } catch (TransportException e) {
                    assertTrue(e.getMessage().contains("failed"), e.getMessage());
                    break;
                }
            }
            killer.join();
            Throwable cause = initiator.owner.awaitFailure(Duration.ofSeconds(10));
            assertTrue(cause instanceof TransportException, () -> "cause: " + cause);
            assertTrue(cause.getMessage().contains("127.0.0.1:" + tgtd.server.port()), cause.getMessage());
            assertTrue(commands > 0, "I/O was moving when the target died");
            Thread.sleep(200);
            assertEquals(1, initiator.owner.failures.size(), "connectionFailed exactly once");
            initiator.endpoint.disconnect();
            initiator.connection.stop(StopMode.RECOVER);
            initiator.connection.destroy();
            assertEquals(before.threads(), Leaks.receiveThreads(), "the receive thread ended");
        } finally {
            transport.close();
            if (tgtd.server.isAlive()) {
                tgtd.close(); // the test failed before the kill
            }
        }
        before.assertNothingLeft(transport);
    }

    private static void awaitStatusOrFailure(TestInitiator initiator, int itt, long deadline) throws Exception {
        while (initiator.owner.failures.isEmpty() && System.nanoTime() < deadline) {
            Pdu pdu = initiator.owner.received.poll(20, TimeUnit.MILLISECONDS);
            if (pdu instanceof ScsiResponse response && response.initiatorTaskTag() == itt
                    || pdu instanceof DataIn dataIn && dataIn.statusPresent() && dataIn.initiatorTaskTag() == itt) {
                return;
            }
        }
    }
}
