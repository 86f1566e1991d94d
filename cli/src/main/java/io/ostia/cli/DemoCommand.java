package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.text.DiscoveredTarget;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code ostia demo}: starts the embedded target on loopback and runs the initiator against it:
 * discovery, login, a verified write and read, then a mixed random workload with a live progress
 * line and a summary. Needs nothing installed but the JDK.
 */
final class DemoCommand implements Main.Command {

    private static final int VERIFY_BYTES = 8 << 20;

    @Override
    public String usage() {
        return """
                Usage: ostia demo [-d seconds] [-z size] [-m depth] [--transport tcp,iser]
                  Starts the embedded target on loopback and runs the initiator against it.
                  -d, --duration s   seconds of mixed random I/O (10)
                  -z, --size n       RAM LUN size, such as 256M (256M; at least 8M)
                  -m, --depth n      requests in flight (32)
                """;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Set.of(), Set.of("d", "z", "m", "transport"),
                Map.of("duration", "d", "size", "z", "depth", "m"));
        int seconds = args.intValue("d", 10, 1, 3600);
        int depth = args.intValue("m", 32, 1, 1024);
        long size = Sizes.parse("-z", args.value("z", "256M"));
        if (size < VERIFY_BYTES) {
            throw new Args.UsageException("-z must be at least 8M for the demo");
        }
        List<String> transports = List.of(args.value("transport", "tcp").split(","));
        try (EmbeddedTarget target = EmbeddedTarget.start(size, "Ostia demo", transports, out);
             ClosableInitiator initiator = Initiators.create();
             Arena arena = Arena.ofShared()) {
            IscsiUrl url = target.url();
            out.println("1. embedded target serving " + url + " (" + LsCommand.humanSize(size) + " in RAM)");
            SessionOptions.Builder options = SessionOptions.fromUrl(url).transports(transports);
            List<DiscoveredTarget> found = initiator.discover(options.build());
            out.println("2. SendTargets discovery found " + found.size() + " target(s): "
                    + found.stream().map(DiscoveredTarget::name).toList());
            try (Session session = initiator.login(options.queueDepth(depth).build())) {
                BlockDevice lun = session.open(0);
                out.printf("3. logged in over %s (ISID %012x, TSIH %d); LUN 0: %s %s, %d blocks of %d bytes%n",
                        session.transport(), session.isid(), session.tsih(), lun.inquiry().vendor(),
                        lun.inquiry().product(), lun.blockCount(), lun.blockSize());
                verify(lun, arena, out);
                out.printf("5. %d s of random 4 KiB I/O, 70%% reads, %d in flight:%n", seconds, depth);
                Workload workload = new Workload(lun, arena, depth, Math.max(1, 4096 / lun.blockSize()), 1.0, 0.3);
                workload.execute(seconds, out);
                workload.throwFailure();
                lun.flush();
            }
            out.println("6. logged out; target stopped. Done.");
            return 0;
        }
    }

    /** Writes a random pattern, reads it back into another buffer and compares. */
    private static void verify(BlockDevice lun, Arena arena, PrintStream out) throws IscsiException {
        MemorySegment written = arena.allocate(VERIFY_BYTES, 4096);
        SplittableRandom random = new SplittableRandom();
        for (long i = 0; i < VERIFY_BYTES; i += 8) {
            written.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        long start = System.nanoTime();
        lun.write(0, written);
        MemorySegment read = arena.allocate(VERIFY_BYTES, 4096);
        lun.read(0, read);
        long mismatch = written.mismatch(read);
        if (mismatch != -1) {
            throw new IscsiException("read-back differs from what was written at byte " + mismatch);
        }
        out.printf("4. wrote %s of random data, read it back, compared: identical (%.1f ms)%n",
                LsCommand.humanSize(VERIFY_BYTES), (System.nanoTime() - start) / 1e6);
    }
}
