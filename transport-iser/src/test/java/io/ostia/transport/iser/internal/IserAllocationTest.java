package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.tcp.TcpTransports;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Heap bytes allocated per I/O end to end, Ostia's initiator against Ostia's target in this JVM,
 * 4 KiB random reads and writes at a depth of 32, each request reissued from the end of the one
 * before on a reusable {@link BlockDevice.Slot} (as {@code ostia perf} does). A measurement of
 * allocation, not of time. On iSER (the loopback fabric): the initiator's completion thread and
 * the target's iSER connection thread; on TCP (127.0.0.1; here because this module's tests have
 * both transports, the initiator and the target): the initiator's receive thread and the
 * target's portal thread.
 *
 * <p>The fabric, the iSER binding, the target's iSER portal and the session layer's slot path
 * allocate nothing per I/O, nor does the iSCSI codec on iSER (the task encoded in place, the SCSI
 * Command and Response decoded into holders), nor the target's writes
 * whose data comes by RDMA Read. What the bounds still admit is headroom (see {@link #ISER}); on TCP
 * the initiator's command and response records, Data-In records, the TCP transport's
 * per-task state and buffer views. Before slots, the session layer added about 380 B per I/O on the initiator's thread
 * (futures, task, request, CDB, result): the bounds fail well before that.
 */
class IserAllocationTest {

    private static final String TARGET = "iqn.2026-01.io.ostia:iser-alloc";
    private static final int DEPTH = 32;
    /** Blocks per I/O: 4 KiB of the RAM LU's 512-byte blocks. */
    private static final int BLOCKS = 8;
    private static final int IOS = 40_000;
    private static final int MEASUREMENTS = 3;

    /** A transport under test: its name, its threads' name prefixes, and the bounds in B per I/O, reads then writes. */
    private record Path(String transport, String targetThreads, long[] targetBound, String initiatorThreads,
                        long[] initiatorBound) {
    }

    /**
     * iSER: on the target a command is decoded into the connection's {@code ScsiCommandHolder}
     * (immediate data copied into the lent write buffer without a buffer view), the LU reads and
     * writes the lent buffer itself, and a GOOD SCSI Response leaves from its holder: nothing per
     * I/O, reads or writes (measured 0 and 0-1 at load 13-16; 88 / 224 with a command record, 64 with
     * the decoder's view of the immediate data, 40 with the LU's slice of the buffer). On the
     * initiator nothing per I/O: the task's fields are encoded in place (a {@code CommandHeader},
     * no command record) and the SCSI Response is decoded into the connection's holder (measured
     * 1-2 reads, 1-2 writes: what is left is no object per I/O; a record per send or answer would be
     * 56-64). Bounds: 16 on both sides, the headroom for C2's escape analysis on a loaded machine.
     */
    private static final Path ISER = new Path("iser", "ostia-target-iser", new long[] {16, 16},
            "ostia-iser-cq", new long[] {16, 16});
    /**
     * TCP: the same PDU records, Data-In, the transport's per-task state and buffer views
     * (measured 320 / 400 reads, 432-472 / 416 writes, target / initiator; writes 248-368 / 449 once
     * the decoder copied a data segment without a view and the LU wrote the buffer unsliced).
     */
    private static final Path TCP = new Path("tcp", "ostia-target-portal", new long[] {384, 576},
            "ostia-tcp-rx", new long[] {480, 480});

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void iserReadsAndWritesStayWithinTheBoundsOnBothSides() throws Exception {
        RdmaProvider fabric = RdmaProviders.byName(RdmaProviders.LOOPBACK);
        IserTransport transport = new IserTransport(IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK),
                () -> { });
        try (IscsiTarget target = IscsiTarget.builder().iserPortal("127.0.0.1", 0, fabric)
                     .target(TARGET, t -> t.ramLun(64L << 20)).build().start()) {
            measure(ISER, transport, target.port());
        } finally {
            transport.close();
        }
    }

    /**
     * iSER writes whose data does not all come as immediate data, so the target fetches the rest
     * by RDMA Read ({@code RdmaDataMover}): 16 KiB writes with FirstBurstLength 8 KiB (8 KiB
     * immediate, 8 KiB read), and 16 KiB writes with ImmediateData=No (all of it read). The
     * immediate part lands in the pooled write buffer the placement gives, at its start, without a
     * view; the pending write is a reused record with its command copied into a reused holder; the
     * RDMA Read is posted from the buffer's registration. Measured 0 / 2 (target / initiator) with
     * 8 KiB immediate and 0 / 1 without, at load 5-7; 40 / 1 with immediate data while the
     * placement had to give exactly the data segment's size (a slice of the buffer per command).
     * Bounds as {@link #ISER}'s.
     */
    @Test
    void iserWritesFetchedByRdmaReadStayWithinTheBoundsOnBothSides() throws Exception {
        RdmaProvider fabric = RdmaProviders.byName(RdmaProviders.LOOPBACK);
        for (boolean immediateData : new boolean[] {true, false}) {
            IserTransport transport = new IserTransport(
                    IserTransportOptions.defaults().withProvider(RdmaProviders.LOOPBACK), () -> { });
            try (IscsiTarget target = IscsiTarget.builder().iserPortal("127.0.0.1", 0, fabric)
                         .target(TARGET, t -> t.ramLun(64L << 20)).build().start()) {
                measure(ISER, transport, target.port(), 4 * BLOCKS, new boolean[] {true},
                        options -> options.firstBurstLength(8192).immediateData(immediateData),
                        immediateData ? "16 KiB, 8 KiB immediate," : "16 KiB, no immediate data,");
            } finally {
                transport.close();
            }
        }
    }

    @Test
    void tcpReadsAndWritesStayWithinTheBoundsOnBothSides() throws Exception {
        try (IscsiTransport transport = TcpTransports.create();
             IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                     .target(TARGET, t -> t.ramLun(64L << 20)).build().start()) {
            measure(TCP, transport, target.port());
        }
    }

    /** 4 KiB reads then writes, the session's options as they come. */
    private void measure(Path path, IscsiTransport transport, int port) throws Exception {
        measure(path, transport, port, BLOCKS, new boolean[] {false, true}, UnaryOperator.identity(), "4 KiB");
    }

    /**
     * I/Os of {@code blocks} blocks in each direction of {@code directions} (true: writes), on a
     * session whose options {@code tune} changes; {@code label} names the run in its figures.
     */
    private void measure(Path path, IscsiTransport transport, int port, int blocks, boolean[] directions,
            UnaryOperator<SessionOptions.Builder> tune, String label) throws Exception {
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported(),
                "this JVM cannot count the bytes a thread allocates");
        threads.setThreadAllocatedMemoryEnabled(true);
        try (ClosableInitiator initiator = Initiators.create(List.of(transport));
             Arena arena = Arena.ofShared()) {
            SessionOptions options = tune.apply(SessionOptions.builder().portal("127.0.0.1", port)
                    .initiatorName(TARGET + "-initiator").transports(path.transport()).queueDepth(DEPTH)
                    .targetName(TARGET)).build();
            try (Session session = initiator.login(options)) {
                assertEquals(path.transport(), session.transport());
                BlockDevice lun = session.open(0);
                MemorySegment[] buffers = new MemorySegment[DEPTH];
                for (int i = 0; i < DEPTH; i++) {
                    buffers[i] = arena.allocate((long) blocks * lun.blockSize(), 4096);
                }
                for (boolean write : directions) {
                    int k = write ? 1 : 0;
                    run(lun, buffers, blocks, write, IOS); // warm-up: the JIT compiles the path first
                    // Code not yet compiled by C2 allocates what escape analysis later removes; on a
                    // loaded machine compilation can lag, so up to MEASUREMENTS runs, the best counts.
                    long targetPerIo = Long.MAX_VALUE;
                    long initiatorPerIo = Long.MAX_VALUE;
                    for (int m = 0; m < MEASUREMENTS && (targetPerIo > path.targetBound()[k]
                            || initiatorPerIo > path.initiatorBound()[k]); m++) {
                        Map<String, Long> before = allocatedByGroup(path);
                        run(lun, buffers, blocks, write, IOS);
                        Map<String, Long> after = allocatedByGroup(path);
                        targetPerIo = Math.min(targetPerIo,
                                (after.get(path.targetThreads()) - before.get(path.targetThreads())) / IOS);
                        initiatorPerIo = Math.min(initiatorPerIo,
                                (after.get(path.initiatorThreads()) - before.get(path.initiatorThreads())) / IOS);
                    }
                    String what = path.transport() + " " + label + " " + (write ? "writes" : "reads") + ": " + targetPerIo
                            + " B per I/O on the target's thread, " + initiatorPerIo + " B on the initiator's";
                    System.out.println("IserAllocationTest " + what);
                    assertTrue(targetPerIo <= path.targetBound()[k], what + "; the target's bound is " + path.targetBound()[k]);
                    assertTrue(initiatorPerIo <= path.initiatorBound()[k],
                            what + "; the initiator's bound is " + path.initiatorBound()[k]);
                }
            }
        }
    }

    /**
     * {@code count} requests, {@value #DEPTH} in flight, each reissued from the end of the one
     * before on the same {@link BlockDevice.Slot}, as {@code ostia perf} does.
     */
    private static void run(BlockDevice lun, MemorySegment[] buffers, int blocks, boolean write, int count)
            throws Exception {
        AtomicLong left = new AtomicLong(count);
        CountDownLatch idle = new CountDownLatch(buffers.length);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long slots = lun.blockCount() / blocks;
        class Issuer implements BlockDevice.SlotListener {
            void issue(BlockDevice.Slot slot) {
                if (left.getAndDecrement() <= 0 || failure.get() != null) {
                    idle.countDown();
                    return;
                }
                long lba = ThreadLocalRandom.current().nextLong(slots) * blocks;
                if (write) {
                    slot.write(lba);
                } else {
                    slot.read(lba);
                }
            }

            @Override
            public void transferred(BlockDevice.Slot slot, Throwable error) {
                if (error != null) {
                    failure.compareAndSet(null, error);
                }
                issue(slot);
            }
        }
        Issuer issuer = new Issuer();
        for (MemorySegment buffer : buffers) {
            issuer.issue(lun.slot(buffer, issuer));
        }
        assertTrue(idle.await(120, TimeUnit.SECONDS), "the requests completed within 120 s");
        if (failure.get() != null) {
            throw new AssertionError("a request failed", failure.get());
        }
    }

    /** Heap bytes allocated so far by the live threads of the two groups the bounds are about. */
    private Map<String, Long> allocatedByGroup(Path path) {
        Map<String, Long> groups = new HashMap<>(Map.of(path.targetThreads(), 0L, path.initiatorThreads(), 0L));
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            for (String group : List.copyOf(groups.keySet())) {
                if (thread.getName().startsWith(group)) {
                    long bytes = threads.getThreadAllocatedBytes(thread.threadId());
                    groups.merge(group, Math.max(bytes, 0), Long::sum);
                }
            }
        }
        return groups;
    }
}
