package io.ostia.initiator;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A continuous write-and-verify load on a block device, to show that a session loses nothing
 * while it moves or recovers (demos, benchmarks, tests): {@code depth} virtual threads, each
 * owning its own stripe of the device, write a chunk with a pattern naming the chunk and the
 * write's sequence number, read it back and compare. Every acknowledged write is remembered, so
 * {@link #verifyAll()} can read the whole stripe set afterwards.
 *
 * <p>A failed command (exception) and a mismatch (a write acknowledged but not read back) are
 * counted and the first few described; the load carries on after either.
 */
public final class WriteVerifyLoad implements AutoCloseable {

    private static final int KEPT_ERRORS = 8;

    private final BlockDevice device;
    private final int chunkBlocks;
    private final long chunksPerSlot;
    private final long seed = System.nanoTime();
    private final Arena arena = Arena.ofShared();
    /** The sequence number last acknowledged per chunk (0: never written). */
    private final long[][] acknowledged;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private volatile boolean stopping;

    /**
     * @param depth       how many writers run at once (each has at most one command in flight)
     * @param chunkBlocks blocks per write
     * @param spanBlocks  how much of the device, from LBA 0, the load covers
     */
    public WriteVerifyLoad(BlockDevice device, int depth, int chunkBlocks, long spanBlocks) {
        if (depth < 1 || chunkBlocks < 1) {
            throw new IllegalArgumentException("depth " + depth + " and chunk of " + chunkBlocks + " blocks must be positive");
        }
        long span = Math.min(spanBlocks, device.blockCount());
        this.chunksPerSlot = span / depth / chunkBlocks;
        if (chunksPerSlot < 1) {
            throw new IllegalArgumentException(span + " blocks cannot hold " + depth + " writers of " + chunkBlocks
                    + "-block chunks");
        }
        this.device = device;
        this.chunkBlocks = chunkBlocks;
        this.acknowledged = new long[depth][(int) chunksPerSlot];
    }

    /** Starts the writers. */
    public WriteVerifyLoad start() {
        for (int slot = 0; slot < acknowledged.length; slot++) {
            int s = slot;
            threads.add(Thread.ofVirtual().name("ostia-load-" + slot).start(() -> run(s)));
        }
        return this;
    }

    private void run(int slot) {
        long bytes = (long) chunkBlocks * device.blockSize();
        MemorySegment out = arena.allocate(bytes, 4096);
        MemorySegment in = arena.allocate(bytes, 4096);
        long sequence = 0;
        for (long chunk = 0; !stopping; chunk = (chunk + 1) % chunksPerSlot) {
            long lba = lba(slot, chunk);
            sequence++;
            fill(out, slot, chunk, sequence);
            try {
                device.write(lba, out);
                writes.incrementAndGet();
                acknowledged[slot][(int) chunk] = sequence;
                device.read(lba, in);
                reads.incrementAndGet();
                if (in.mismatch(out) >= 0) {
                    mismatch("chunk at LBA " + lba + " read back other bytes than write " + sequence + " put there");
                }
            } catch (IscsiException | RuntimeException e) {
                failure("I/O at LBA " + lba + " failed: " + e);
            }
        }
    }

    private long lba(int slot, long chunk) {
        return ((long) slot * chunksPerSlot + chunk) * chunkBlocks;
    }

    private void fill(MemorySegment segment, int slot, long chunk, long sequence) {
        long base = seed ^ (long) slot << 48 ^ chunk << 20 ^ sequence * 0x9E3779B97F4A7C15L;
        for (long offset = 0; offset < segment.byteSize(); offset += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, base + offset);
        }
    }

    private void failure(String what) {
        failures.incrementAndGet();
        if (errors.size() < KEPT_ERRORS) {
            errors.add(what);
        }
    }

    private void mismatch(String what) {
        mismatches.incrementAndGet();
        if (errors.size() < KEPT_ERRORS) {
            errors.add(what);
        }
    }

    /** Stops the writers, waiting at most {@code timeout} for their last command; false if one still runs. */
    public boolean stop(Duration timeout) throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                return false;
            }
        }
        return true;
    }

    /**
     * After {@link #stop}: reads every chunk ever acknowledged and compares it with its last
     * acknowledged write; counts what differs as mismatches. Returns the chunks checked.
     */
    public long verifyAll() {
        if (!stopping || threads.stream().anyMatch(Thread::isAlive)) {
            throw new IllegalStateException("verifyAll needs the load stopped first");
        }
        long bytes = (long) chunkBlocks * device.blockSize();
        MemorySegment expected = arena.allocate(bytes, 4096);
        MemorySegment in = arena.allocate(bytes, 4096);
        long checked = 0;
        for (int slot = 0; slot < acknowledged.length; slot++) {
            for (int chunk = 0; chunk < chunksPerSlot; chunk++) {
                long sequence = acknowledged[slot][chunk];
                if (sequence == 0) {
                    continue;
                }
                long lba = lba(slot, chunk);
                fill(expected, slot, chunk, sequence);
                try {
                    device.read(lba, in);
                    if (in.mismatch(expected) >= 0) {
                        mismatch("chunk at LBA " + lba + " does not hold its last acknowledged write " + sequence);
                    }
                } catch (IscsiException | RuntimeException e) {
                    failure("verify read at LBA " + lba + " failed: " + e);
                }
                checked++;
            }
        }
        return checked;
    }

    public long writes() {
        return writes.get();
    }

    public long reads() {
        return reads.get();
    }

    /** Commands that failed (an exception reached the load). */
    public long failures() {
        return failures.get();
    }

    /** Acknowledged writes that did not read back. */
    public long mismatches() {
        return mismatches.get();
    }

    /** The first few failures and mismatches, described. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** Blocks until at least {@code count} more writes are acknowledged, or {@code timeout} passes; false then. */
    public boolean awaitWrites(long count, Duration timeout) throws InterruptedException {
        long target = writes.get() + count;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (writes.get() < target) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    @Override
    public String toString() {
        return writes() + " writes and " + reads() + " verified reads, " + failures() + " failed, " + mismatches()
                + " mismatched" + (errors.isEmpty() ? "" : ": " + errors);
    }

    /** Stops the writers if still running (bounded) and frees the buffers. */
    @Override
    public void close() throws InterruptedException {
        if (!stop(Duration.ofSeconds(60))) {
            // A writer's command may still own a buffer: freeing it under the transport is worse than keeping it.
            throw new IllegalStateException("the load's writers did not stop within 60 s; their buffers stay allocated");
        }
        arena.close();
    }
}
