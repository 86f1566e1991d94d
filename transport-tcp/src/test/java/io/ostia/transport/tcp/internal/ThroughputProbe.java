package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.Cdb;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a test (surefire does not pick it up by name): {@code ./mvnw -pl transport-tcp
 * -am verify -Dtest=ThroughputProbe -Dostia.probe=true -Dsurefire.failIfNoSpecifiedTests=false}
 * prints IOPS and MiB/s of the transport against tgtd, driven from a test thread and from the
 * receive thread's callbacks.
 */
@EnabledIfSystemProperty(named = "ostia.probe", matches = "true")
class ThroughputProbe {

    @TempDir
    Path dir;

    @Test
    void probe() throws Exception {
        TcpTransport transport = new TcpTransport(TcpTransportOptions.defaults(), () -> { });
        try (TgtdFixture tgtd = TgtdFixture.start(dir, "probe"); Arena arena = Arena.ofShared();
             TestInitiator initiator = new TestInitiator(transport, tgtd.address())) {
            initiator.login(tgtd.target.iqn(), TestInitiator.Offer.plain());
            run(initiator, arena, 4096, 32, true, true);
            run(initiator, arena, 4096, 32, false, true);
            run(initiator, arena, 4096, 1, true, true);
            run(initiator, arena, 65536, 32, false, false);
            run(initiator, arena, 65536, 32, true, false);
            fromCallbacks(initiator, arena, 4096, 32);
            fromCallbacks(initiator, arena, 4096, 1);
        } finally {
            transport.close();
        }
    }

    /** The next command is sent from the receive thread's callback, as a session layer may. */
    private static void fromCallbacks(TestInitiator initiator, Arena arena, int size, int depth) throws Exception {
        long blocks = TgtdFixture.LUN_SIZE / size;
        SplittableRandom rnd = new SplittableRandom(2);
        java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong outstanding = new java.util.concurrent.atomic.AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        MemorySegment buffer = arena.allocate((long) size * depth, 4096);
        java.util.Map<Integer, MemorySegment> slots = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
        initiator.owner.onPdu = pdu -> {
            int itt = pdu instanceof ScsiResponse r ? r.initiatorTaskTag()
                    : pdu instanceof DataIn d && d.statusPresent() ? d.initiatorTaskTag() : -1;
            MemorySegment slot = slots.remove(itt);
            if (slot == null) {
                return false;
            }
            done.incrementAndGet();
            if (System.nanoTime() < end) {
                try {
                    long at = rnd.nextLong(blocks) * (size / 512);
                    synchronized (initiator) {
                        slots.put(initiator.peekItt(), slot);
                        initiator.submit(Cdb.read10(at, size / 512), true, false, slot);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            } else if (outstanding.decrementAndGet() == 0) {
                drained.countDown();
            }
            return true;
        };
        outstanding.set(depth);
        for (int i = 0; i < depth; i++) {
            MemorySegment slot = buffer.asSlice((long) i * size, size);
            synchronized (initiator) {
                slots.put(initiator.peekItt(), slot);
                initiator.submit(Cdb.read10(rnd.nextLong(blocks) * (size / 512), size / 512), true, false, slot);
            }
        }
        drained.await(30, TimeUnit.SECONDS);
        initiator.owner.onPdu = pdu -> false;
        System.out.printf("PROBE callback-driven random read %d B depth %d: %.0f IOPS%n", size, depth, done.get() / 4.0);
    }

    private static void run(TestInitiator initiator, Arena arena, int size, int depth, boolean read, boolean random)
            throws Exception {
        long blocks = TgtdFixture.LUN_SIZE / size;
        MemorySegment[] buffers = new MemorySegment[depth];
        for (int i = 0; i < depth; i++) {
            buffers[i] = arena.allocate(size, 4096);
        }
        SplittableRandom rnd = new SplittableRandom(1);
        ArrayDeque<Integer> inFlight = new ArrayDeque<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        long done = 0;
        long next = 0;
        int slot = 0;
        while (System.nanoTime() < end) {
            while (inFlight.size() < depth) {
                long at = (random ? rnd.nextLong(blocks) : next++ % blocks) * (size / 512);
                byte[] cdb = read ? Cdb.read10(at, size / 512) : Cdb.write10(at, size / 512);
                inFlight.add(initiator.submit(cdb, read, !read, buffers[slot++ % depth]));
            }
            initiator.await(inFlight.removeFirst());
            done++;
        }
        while (!inFlight.isEmpty()) {
            initiator.await(inFlight.removeFirst());
        }
        System.out.printf("PROBE %s %s %d B depth %d: %.0f IOPS %.1f MiB/s%n", random ? "random" : "seq",
                read ? "read" : "write", size, depth, done / 4.0, done * size / 4.0 / (1 << 20));
    }
}
