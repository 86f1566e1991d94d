package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One measurement: {@code depth} slots, each reissuing its request from the completion of the
 * previous one (no thread hand-off, as libiscsi's event loop), with a live progress line.
 */
final class Workload {
    private final BlockDevice device;
    private final int blocks;
    private final double randomShare;
    private final double writeShare;
    private final long lastStart;
    /** One reusable slot per request in flight: a reissue from its listener allocates nothing. */
    private final BlockDevice.Slot[] slots;
    private final AtomicLong nextLba = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final CountDownLatch idle;
    private final AtomicReference<IscsiException> failure = new AtomicReference<>();
    private volatile boolean stopping;

    /**
     * @param randomShare fraction of requests at random offsets (0 sequential, 1 all random)
     * @param writeShare  fraction of requests that write (0 read only, 1 write only)
     */
    Workload(BlockDevice device, Arena arena, int depth, int blocks, double randomShare, double writeShare) {
        this.device = device;
        this.blocks = blocks;
        this.randomShare = randomShare;
        this.writeShare = writeShare;
        this.lastStart = device.blockCount() - blocks;
        this.slots = new BlockDevice.Slot[depth];
        long bytes = (long) blocks * device.blockSize();
        BlockDevice.SlotListener listener = this::transferred;
        for (int i = 0; i < depth; i++) {
            MemorySegment buffer = arena.allocate(bytes, 4096);
            buffer.fill((byte) (0x5a + i));
            slots[i] = device.slot(buffer, listener);
        }
        this.idle = new CountDownLatch(depth);
    }

    /** Runs for {@code seconds} (0: until {@link #stop()}), printing progress, then a "result:" line. */
    void execute(int seconds, PrintStream out) {
        execute(0, seconds, out);
    }

    /**
     * As {@link #execute(int, PrintStream)}, after {@code warmupSeconds} of the same load that the
     * figures leave out (the JIT compiles the I/O path in the first seconds).
     */
    void execute(int warmupSeconds, int seconds, PrintStream out) {
        for (BlockDevice.Slot slot : slots) {
            issue(slot);
        }
        if (warmupSeconds > 0) {
            out.printf("warming up for %d s (not counted)%n", warmupSeconds);
            try {
                idle.await(warmupSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
            }
        }
        Allocations allocations = Allocations.start();
        long cpuAtStart = processCpuNanos();
        long start = System.nanoTime();
        completed.set(0);
        long previous = 0;
        long previousAt = start;
        long end = seconds == 0 ? Long.MAX_VALUE : start + TimeUnit.SECONDS.toNanos(seconds);
        try {
            while (!stopping && System.nanoTime() - end < 0 && failure.get() == null) {
                if (idle.await(1, TimeUnit.SECONDS)) {
                    break;
                }
                long now = System.nanoTime();
                long done = completed.get();
                out.printf("\r%s - iops current %d (%.1f MiB/s), iops average %d (%.1f MiB/s), in_flight %d   ",
                        clock(now - start), rate(done - previous, now - previousAt),
                        mibPerSecond(done - previous, now - previousAt), rate(done, now - start),
                        mibPerSecond(done, now - start), idle.getCount());
                out.flush();
                previous = done;
                previousAt = now;
            }
            stopping = true;
            if (!idle.await(60, TimeUnit.SECONDS)) {
                failure.compareAndSet(null, new IscsiException(idle.getCount() + " requests still in flight 60 s after the run ended"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
        long elapsed = System.nanoTime() - start;
        long done = completed.get();
        out.printf("%nresult: %d IOPS, %.1f MiB/s (%d requests of %d bytes in %.2f s, %s, depth %d)%n",
                rate(done, elapsed), mibPerSecond(done, elapsed), done, (long) blocks * device.blockSize(),
                elapsed / 1e9, describe(), slots.length);
        long cpu = processCpuNanos() - cpuAtStart;
        if (cpuAtStart >= 0 && done > 0) {
            out.printf("cpu: %.1f us per I/O (this process's CPU time, all threads, over the measured seconds)%n",
                    cpu / 1e3 / done);
        }
        if (allocations != null && done > 0) {
            printAllocations(allocations.since(), done, out);
        }
    }

    /** Heap bytes per I/O, in all and by thread group (the biggest first), over the measured seconds. */
    private static void printAllocations(java.util.Map<String, Long> byGroup, long requests, PrintStream out) {
        long total = byGroup.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder groups = new StringBuilder();
        byGroup.entrySet().stream().filter(e -> e.getValue() / requests > 0)
                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> groups.append(groups.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                        .append(e.getValue() / requests));
        out.printf("allocated: %d B per I/O in this JVM (%s)%n", total / requests,
                groups.isEmpty() ? "no thread allocated 1 B per I/O" : "B per I/O by thread: " + groups);
    }

    /** CPU time of this process so far in nanoseconds, or -1 when the JVM does not tell. */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    long completed() {
        return completed.get();
    }

    void throwFailure() throws IscsiException {
        IscsiException f = failure.get();
        if (f != null) {
            throw f;
        }
    }

    void stop() {
        stopping = true;
        try {
            idle.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String describe() {
        String pattern = randomShare == 0 ? "sequential" : randomShare == 1 ? "random" : "mixed random/sequential";
        String op = writeShare == 0 ? "read" : writeShare == 1 ? "write" : Math.round(writeShare * 100) + "% write";
        return pattern + " " + op;
    }

    private void issue(BlockDevice.Slot slot) {
        if (stopping || failure.get() != null) {
            idle.countDown();
            return;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long lba;
        if (randomShare > 0 && (randomShare >= 1 || random.nextDouble() < randomShare)) {
            lba = random.nextLong(lastStart / blocks + 1) * blocks;
        } else {
            lba = nextLba.getAndAdd(blocks);
            if (lba > lastStart) {
                lba = 0; // wrap: an approximate restart is good enough for throughput
                nextLba.set(blocks);
            }
        }
        boolean write = writeShare > 0 && (writeShare >= 1 || random.nextDouble() < writeShare);
        try {
            if (write) {
                slot.write(lba);
            } else {
                slot.read(lba);
            }
        } catch (RuntimeException e) {
            transferred(slot, e);
        }
    }

    /** A slot's transfer ended: count it and reissue the slot. */
    private void transferred(BlockDevice.Slot slot, Throwable error) {
        if (error != null) {
            Throwable cause = error instanceof CompletionException c ? c.getCause() : error;
            failure.compareAndSet(null, cause instanceof IscsiException i ? i
                    : new IscsiException("request failed: " + cause, cause));
            idle.countDown();
            return;
        }
        completed.incrementAndGet();
        issue(slot);
    }

    /** Heap bytes all threads have allocated so far, or -1 when the JVM does not count them. */
    private double mibPerSecond(long requests, long nanos) {
        return nanos <= 0 ? 0 : requests * (double) blocks * device.blockSize() / (1 << 20) / (nanos / 1e9);
    }

    private static long rate(long requests, long nanos) {
        return nanos <= 0 ? 0 : Math.round(requests / (nanos / 1e9));
    }

    private static String clock(long nanos) {
        long s = TimeUnit.NANOSECONDS.toSeconds(nanos);
        return String.format("%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
