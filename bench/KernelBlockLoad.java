import com.sun.nio.file.ExtendedOpenOption;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * A small fio-like load for a kernel block device, for bench/iser-on-tgtd-vs-kernel.sh: DEPTH
 * threads each keep one O_DIRECT random read of BYTES in flight (so the kernel's initiator has
 * DEPTH commands queued), WARMUP seconds left out, then SECONDS counted. Prints a line in the
 * form of `ostia perf`'s: "result: N IOPS, M MiB/s (...)".
 *
 * <pre>java KernelBlockLoad.java /dev/sdX DEPTH BYTES SECONDS WARMUP</pre>
 */
public final class KernelBlockLoad {

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException("usage: KernelBlockLoad DEVICE DEPTH BYTES SECONDS WARMUP");
        }
        Path device = Path.of(args[0]);
        int depth = Integer.parseInt(args[1]);
        int bytes = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int warmup = Integer.parseInt(args[4]);
        if (bytes % 4096 != 0) {
            throw new IllegalArgumentException("BYTES " + bytes + " is not a multiple of 4096 (O_DIRECT alignment)");
        }
        // A block device's size is in /sys (fstat says 0), in 512-byte sectors.
        long sectors = Long.parseLong(Files.readString(Path.of("/sys/class/block", device.getFileName().toString(), "size")).trim());
        long slots = sectors * 512 / bytes;
        if (slots < 1) {
            throw new IllegalArgumentException(device + " holds fewer than " + bytes + " bytes");
        }
        LongAdder done = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(device, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            for (int t = 0; t < depth; t++) {
                long seed = 0x9E3779B97F4A7C15L * (t + 1);
                threads.add(Thread.ofPlatform().name("load-" + t).start(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes + 4096).alignedSlice(4096).limit(bytes);
                    try {
                        while (running.get()) {
                            buffer.clear();
                            long position = random.nextLong(slots) * bytes;
                            while (buffer.hasRemaining()) {
                                if (channel.read(buffer, position + buffer.position()) < 0) {
                                    throw new IllegalStateException("end of " + device + " at " + position);
                                }
                            }
                            done.increment();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        running.set(false);
                    }
                }));
            }
            Thread.sleep(warmup * 1000L);
            long before = done.sum();
            long start = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long count = done.sum() - before;
            double elapsed = (System.nanoTime() - start) / 1e9;
            running.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
                if (thread.isAlive()) {
                    throw new IllegalStateException(thread.getName() + " did not end within 30 s of the stop");
                }
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a read of " + device + " failed", failure.get());
            }
            System.out.printf("result: %d IOPS, %.1f MiB/s (%d requests of %d bytes in %.2f s, random read, depth %d)%n",
                    Math.round(count / elapsed), count * (double) bytes / elapsed / (1 << 20), count, bytes, elapsed, depth);
        }
    }
}
