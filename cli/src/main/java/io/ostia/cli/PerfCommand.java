package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ostia perf}: keeps {@code -m} requests of {@code -b} blocks in flight against one LUN
 * and reports IOPS and MiB/s each second and at the end, with iscsi-perf's options.
 */
final class PerfCommand implements Main.Command {

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.union(Connection.FLAGS, Set.of("r", "w")),
                Connection.union(Connection.VALUES, Set.of("m", "b", "s", "t")),
                Connection.union(Connection.ALIASES, Map.of("random", "r", "write", "w", "max-requests", "m",
                        "blocks", "b", "seconds", "s", "timeout", "t")));
        IscsiUrl url = IscsiUrl.parse(args.single("iSCSI URL of a LUN"));
        url.requireTarget();
        int lun = url.lun().orElseThrow(() -> new IllegalArgumentException("the URL names no LUN: " + url));
        int depth = args.intValue("m", 32, 1, 4096);
        int blocks = args.intValue("b", 8, 1, 65535);
        int seconds = args.intValue("s", 10, 0, 86400);
        int timeout = args.intValue("t", 30, 1, 3600);
        boolean random = args.flag("r");
        boolean write = args.flag("w");
        try (ClosableInitiator initiator = Initiators.create();
             Session session = initiator.login(Connection.options(args, url).queueDepth(Math.max(depth, 1))
                     .commandTimeout(Duration.ofSeconds(timeout)).build());
             Arena arena = Arena.ofShared()) {
            BlockDevice device = session.open(lun);
            if (device.blockCount() < blocks) {
                throw new IllegalArgumentException("LUN " + lun + " has " + device.blockCount() + " blocks, fewer than -b " + blocks);
            }
            out.printf("connected to %s over %s%n", url, session.transport());
            out.printf("capacity is %d blocks of %d bytes (%s)%n", device.blockCount(), device.blockSize(),
                    LsCommand.humanSize(device.capacity().bytes()));
            out.printf("performing %s %s with %d parallel requests of %d blocks (%d bytes), %s%n",
                    random ? "RANDOM" : "SEQUENTIAL", write ? "WRITE" : "READ", depth, blocks, blocks * device.blockSize(),
                    seconds == 0 ? "until interrupted" : seconds + " s");
            Run run = new Run(device, arena, depth, blocks, random, write);
            Thread hook = new Thread(run::stop, "ostia-perf-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                run.execute(seconds, out);
            } finally {
                removeHook(hook);
            }
            if (run.failure.get() != null) {
                throw run.failure.get();
            }
        }
        return 0;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down (interrupted run): the hook has done its part.
        }
    }

    /** One measurement: {@code depth} slots, each reissuing its request as soon as it completes. */
    private static final class Run {
        private final BlockDevice device;
        private final int blocks;
        private final boolean random;
        private final boolean write;
        private final long lastStart;
        private final MemorySegment[] buffers;
        private final AtomicLong nextLba = new AtomicLong();
        private final AtomicLong completed = new AtomicLong();
        private final CountDownLatch idle;
        private final AtomicReference<IscsiException> failure = new AtomicReference<>();
        private volatile boolean stopping;

        Run(BlockDevice device, Arena arena, int depth, int blocks, boolean random, boolean write) {
            this.device = device;
            this.blocks = blocks;
            this.random = random;
            this.write = write;
            this.lastStart = device.blockCount() - blocks;
            this.buffers = new MemorySegment[depth];
            long bytes = (long) blocks * device.blockSize();
            for (int i = 0; i < depth; i++) {
                buffers[i] = arena.allocate(bytes, 4096);
                buffers[i].fill((byte) (0x5a + i));
            }
            this.idle = new CountDownLatch(depth);
        }

        void execute(int seconds, PrintStream out) {
            long start = System.nanoTime();
            for (int i = 0; i < buffers.length; i++) {
                issue(i);
            }
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
                            mibPerSecond(done, now - start), buffers.length - idle.getCount());
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
            out.printf("%nresult: %d IOPS, %.1f MiB/s (%d requests of %d bytes in %.2f s, %s %s, depth %d)%n",
                    rate(done, elapsed), mibPerSecond(done, elapsed), done, (long) blocks * device.blockSize(),
                    elapsed / 1e9, random ? "random" : "sequential", write ? "write" : "read", buffers.length);
        }

        void stop() {
            stopping = true;
            try {
                idle.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void issue(int slot) {
            if (stopping || failure.get() != null) {
                idle.countDown();
                return;
            }
            long lba;
            if (random) {
                lba = ThreadLocalRandom.current().nextLong(lastStart / blocks + 1) * blocks;
            } else {
                lba = nextLba.getAndAdd(blocks);
                if (lba > lastStart) {
                    lba = 0; // wrap: an approximate restart is good enough for throughput
                    nextLba.set(blocks);
                }
            }
            (write ? device.writeAsync(lba, buffers[slot]) : device.readAsync(lba, buffers[slot]))
                    .whenComplete((ok, error) -> {
                        if (error != null) {
                            Throwable cause = error instanceof java.util.concurrent.CompletionException c ? c.getCause() : error;
                            failure.compareAndSet(null, cause instanceof IscsiException i ? i
                                    : new IscsiException("request failed: " + cause, cause));
                            idle.countDown();
                            return;
                        }
                        completed.incrementAndGet();
                        issue(slot);
                    });
        }

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
}
