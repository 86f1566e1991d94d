package io.ostia.itest;

import static org.junit.Assert.assertEquals;

import io.ostia.api.BlockDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Block I/O patterns, bounded waits and thread listings shared by the in-container tests. */
final class Support {

    private Support() {
    }

    /** A segment of {@code bytes} filled with a pseudo-random pattern from {@code seed}. */
    static MemorySegment pattern(Arena arena, long bytes, long seed) {
        MemorySegment segment = arena.allocate(bytes, 4096);
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < bytes; i += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        return segment;
    }

    /** Issues writes of {@code data} from byte {@code start} of the LUN in {@code chunk}-byte commands, none awaited. */
    static CompletableFuture<Void> startWrites(BlockDevice lun, long start, MemorySegment data, int chunk) {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (long offset = 0; offset < data.byteSize(); offset += chunk) {
            writes.add(lun.writeAsync((start + offset) / lun.blockSize(), data.asSlice(offset, chunk)));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    /** Writes {@code data} from byte {@code start} with every command in flight at once, and waits (bounded). */
    static void writeAll(BlockDevice lun, long start, MemorySegment data, int chunk) throws Exception {
        startWrites(lun, start, data, chunk).get(60, TimeUnit.SECONDS);
    }

    /** Reads {@code bytes} from byte {@code start} in {@code chunk}-byte commands, all in flight together. */
    static MemorySegment readAll(BlockDevice lun, Arena arena, long start, long bytes, int chunk) throws Exception {
        MemorySegment data = arena.allocate(bytes, 4096);
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (long offset = 0; offset < bytes; offset += chunk) {
            reads.add(lun.readAsync((start + offset) / lun.blockSize(), data.asSlice(offset, chunk)));
        }
        CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        return data;
    }

    /** Asserts that the LUN holds {@code expected} from byte {@code start}, read with many commands in flight. */
    static void assertLunHolds(BlockDevice lun, Arena arena, long start, MemorySegment expected, int chunk) throws Exception {
        MemorySegment read = readAll(lun, arena, start, expected.byteSize(), chunk);
        assertEquals("first byte where the LUN differs from what was written", -1L, expected.mismatch(read));
    }

    /** Writes a pattern from byte {@code start} with many commands in flight, and reads it back. */
    static void writeReadBack(BlockDevice lun, Arena arena, long start, long bytes, int chunk, long seed) throws Exception {
        MemorySegment written = pattern(arena, bytes, seed);
        writeAll(lun, start, written, chunk);
        assertLunHolds(lun, arena, start, written, chunk);
    }

    /** Asserts that the first {@code expected.byteSize()} bytes of tgtd's backing file are {@code expected}. */
    static void assertBackingFileStarts(Path file, MemorySegment expected) throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer actual = ByteBuffer.allocateDirect((int) expected.byteSize());
            while (actual.hasRemaining() && channel.read(actual) >= 0) {
                // until full or end of file
            }
            actual.flip();
            assertEquals("first byte where tgtd's backing file differs from what was written", -1L,
                    MemorySegment.ofBuffer(actual).mismatch(expected));
        }
    }

    /** Waits until {@code condition} holds, at most {@code timeout}; fails naming {@code what}. */
    static void await(Duration timeout, Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("within " + timeout.toMillis() + " ms: " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** Names of the live platform threads whose name starts with {@code prefix}. */
    static List<String> threads(String prefix) {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                names.add(t.getName());
            }
        }
        names.sort(null);
        return names;
    }

    /** The installed bundle named {@code symbolicName}. */
    static org.osgi.framework.Bundle bundle(org.osgi.framework.BundleContext context, String symbolicName) {
        for (org.osgi.framework.Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }
}
