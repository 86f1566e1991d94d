package io.ostia.target;

import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.scsi.Cdb;

import javax.management.ObjectName;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hostile and legitimate clients of an embedded target on loopback, and what they cost the JVM
 * (threads, native memory), for {@link HostileClientsTest} and the {@code bench/hostile-churn.sh}
 * measurement. Every loop is bounded in count and time.
 */
final class HostileClients {

    static final String TARGET = "iqn.2026-12.io.ostia:hostile";
    static final int BLOCK = 512;
    static final long LUN_BYTES = 64L << 20;

    private HostileClients() {
    }

    // ------------------------------------------------------------------ measuring

    /** The JVM's live threads now. */
    static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** Live threads whose name starts with "ostia-target": the target's own. */
    static int targetThreads() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int n = 0;
        for (var info : mx.getThreadInfo(mx.getAllThreadIds(), 0)) {
            if (info != null && info.getThreadName().startsWith("ostia-target")) {
                n++;
            }
        }
        return n;
    }

    private static final Pattern TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern HEAP = Pattern.compile("Java Heap \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    /**
     * Native (non-heap) memory the JVM has committed, in bytes, from Native Memory Tracking
     * (-XX:NativeMemoryTracking=summary); -1 when NMT is off.
     */
    static long nativeBytes() {
        try {
            String out = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[]{new String[]{"summary"}}, new String[]{String[].class.getName()});
            Matcher total = TOTAL.matcher(out);
            Matcher heap = HEAP.matcher(out);
            if (!total.find() || !heap.find()) {
                return -1;
            }
            return (Long.parseLong(total.group(2)) - Long.parseLong(heap.group(2))) << 10;
        } catch (Exception e) {
            throw new IllegalStateException("reading Native Memory Tracking failed", e);
        }
    }

    /** Resident set size of this process, in bytes (Linux). */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) << 10;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading /proc/self/status failed", e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** Open file descriptors of this process (Linux). */
    static int fds() {
        String[] names = Path.of("/proc/self/fd").toFile().list();
        if (names == null) {
            throw new IllegalStateException("cannot list /proc/self/fd");
        }
        return names.length;
    }

    /** Samples threads, target threads, native memory, RSS and fds every 100 ms, keeping the peaks. */
    static final class Peaks implements AutoCloseable {
        final AtomicLong threads = new AtomicLong();
        final AtomicLong targetThreads = new AtomicLong();
        final AtomicLong nativeBytes = new AtomicLong(-1);
        final AtomicLong rss = new AtomicLong();
        final AtomicLong fds = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread sampler;

        Peaks() {
            sampler = Thread.ofPlatform().daemon(true).name("hostile-sampler").start(() -> {
                while (!stop.get()) {
                    sample();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        void sample() {
            threads.accumulateAndGet(threads(), Math::max);
            targetThreads.accumulateAndGet(targetThreads(), Math::max);
            nativeBytes.accumulateAndGet(nativeBytes(), Math::max);
            rss.accumulateAndGet(rssBytes(), Math::max);
            fds.accumulateAndGet(fds(), Math::max);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            sampler.join(5000);
            sample();
        }
    }

    // ------------------------------------------------------------------ hostile clients

    /**
     * {@code count} connections, {@code parallel} at a time, each sending 1..4096 random bytes
     * (sometimes nothing) and closing; returns how many connected.
     */
    static int churn(int port, int count, int parallel, long seed) throws InterruptedException {
        AtomicLong connected = new AtomicLong();
        AtomicLong next = new AtomicLong();
        try (ExecutorService pool = Executors.newFixedThreadPool(parallel,
                Thread.ofPlatform().daemon(true).name("hostile-churn-", 0).factory())) {
            for (int w = 0; w < parallel; w++) {
                long workerSeed = seed + w;
                pool.submit(() -> {
                    Random random = new Random(workerSeed);
                    while (next.getAndIncrement() < count) {
                        try (Socket s = connect(port)) {
                            connected.incrementAndGet();
                            int n = random.nextInt(4097);
                            if (n > 0) {
                                byte[] blob = new byte[n];
                                random.nextBytes(blob);
                                s.getOutputStream().write(blob);
                            }
                        } catch (IOException e) {
                            // Refused or reset by the target: what a hostile client expects.
                        }
                    }
                    return null;
                });
            }
            pool.shutdown();
            if (!pool.awaitTermination(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("churn did not finish in 10 minutes");
            }
        }
        return (int) connected.get();
    }

    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(5000);
        return s;
    }

    /** A Login Request header whose data segment is {@code dataLength} bytes long, without the data. */
    static byte[] loginHeader(int dataLength) {
        ByteBuffer bhs = ByteBuffer.allocate(PduEncoder.BHS_LENGTH);
        bhs.put(0, (byte) 0x43); // immediate Login Request
        bhs.put(1, (byte) 0x87); // T, CSG 1, NSG 3
        bhs.putInt(4, dataLength & 0xffffff);
        bhs.putShort(8, (short) 0x4000);
        return bhs.array();
    }

    /** A SCSI Command (READ(16) of one block) sent before any login. */
    static byte[] preLoginCommand() {
        ScsiCommand c = new ScsiCommand(false, true, true, false, ScsiCommand.TaskAttribute.SIMPLE, 0, 1, BLOCK, 1, 0,
                Cdb.read16(0, 1), java.util.OptionalInt.empty(), Pdu.NO_DATA);
        return new PduEncoder(false, false).encode(c).array();
    }

    /** Sends {@code bytes} one byte every {@code pauseMillis}, stopping when the target closes or {@code stop} is set. */
    static void slowloris(Socket s, byte[] bytes, long pauseMillis, AtomicBoolean stop) {
        try {
            OutputStream out = s.getOutputStream();
            for (byte b : bytes) {
                if (stop.get()) {
                    return;
                }
                out.write(b);
                out.flush();
                Thread.sleep(pauseMillis);
            }
        } catch (IOException e) {
            // The target closed the connection: the end a slowloris should meet.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Logs in and sends {@code commands} WRITE(16)s of {@code bytes} each whose data never comes,
     * then answers NOP-In pings (so the connection stays alive) until {@code stop}; counts down
     * {@code ready} once every command got an R2T or a response; returns the status of every
     * response that came.
     */
    static List<Integer> withholdData(int port, long isid, int commands, int bytes, AtomicBoolean stop,
                                      java.util.concurrent.CountDownLatch ready) throws IOException {
        List<Integer> statuses = new ArrayList<>();
        java.util.Set<Integer> answered = new java.util.HashSet<>();
        try (TestInitiator hog = new TestInitiator(port, isid)) {
            if (hog.login(TARGET, Map.of("ImmediateData", "Yes", "InitialR2T", "No")).statusClass() != 0) {
                throw new IOException("the withholding initiator could not log in");
            }
            hog.socket.setSoTimeout(500);
            for (int i = 0; i < commands; i++) {
                hog.send(hog.command(Cdb.write16(0, bytes / BLOCK), false, true, bytes));
            }
            while (!stop.get()) {
                try {
                    Pdu pdu = hog.receive();
                    if (pdu instanceof io.ostia.api.pdu.ScsiResponse r) {
                        statuses.add(r.status());
                    }
                    if (pdu instanceof io.ostia.api.pdu.ScsiResponse || pdu instanceof io.ostia.api.pdu.ReadyToTransfer) {
                        answered.add(pdu.initiatorTaskTag());
                        if (answered.size() == commands) {
                            ready.countDown();
                        }
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // Only pings, answered: keep holding.
                } catch (java.io.EOFException e) {
                    break; // the target gave up on us
                }
            }
        }
        return statuses;
    }

    // ------------------------------------------------------------------ the legitimate session

    /** What a legitimate write-and-verify session saw. */
    record LegitResult(long writes, long errors, long wrongBytes, List<String> firstErrors) {
    }

    /**
     * Writes 16 KiB of random data (immediate data) at random block addresses and reads each back
     * until {@code stop}, counting commands that did not succeed and bytes that came back wrong.
     */
    static LegitResult legitimate(int port, long isid, AtomicBoolean stop, long seed) {
        long writes = 0;
        long errors = 0;
        long wrong = 0;
        List<String> first = new ArrayList<>();
        Random random = new Random(seed);
        int length = 16 << 10;
        try (TestInitiator i = new TestInitiator(port, isid)) {
            LoginResponse r = i.login(TARGET, Map.of("ImmediateData", "Yes", "InitialR2T", "No",
                    "FirstBurstLength", "65536", "MaxBurstLength", "262144"));
            if (r.statusClass() != 0) {
                return new LegitResult(0, 1, 0, List.of("login failed: class " + r.statusClass()));
            }
            long blocks = LUN_BYTES / BLOCK - length / BLOCK;
            while (!stop.get()) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                long lba = random.nextLong(blocks);
                ScsiCommand write = i.command(Cdb.write16(lba, length / BLOCK), false, true, length)
                        .withData(MemorySegment.ofArray(data));
                TestInitiator.Result w = i.complete(write);
                writes++;
                if (w.status() != 0) {
                    errors++;
                    note(first, "WRITE status 0x" + Integer.toHexString(w.status()));
                    continue;
                }
                TestInitiator.Result rd = i.complete(i.command(Cdb.read16(lba, length / BLOCK), true, false, length));
                if (rd.status() != 0) {
                    errors++;
                    note(first, "READ status 0x" + Integer.toHexString(rd.status()));
                    continue;
                }
                wrong += mismatches(data, rd.data());
            }
        } catch (IOException | RuntimeException e) {
            errors++;
            note(first, e.toString());
        }
        return new LegitResult(writes, errors, wrong, first);
    }

    private static void note(List<String> first, String what) {
        if (first.size() < 5) {
            first.add(what);
        }
    }

    private static long mismatches(byte[] expected, byte[] actual) {
        long n = Math.abs((long) expected.length - actual.length);
        for (int k = 0; k < Math.min(expected.length, actual.length); k++) {
            if (expected[k] != actual[k]) {
                n++;
            }
        }
        return n;
    }

    /** A started target with one 64 MiB RAM LUN on a free loopback port. */
    static IscsiTarget target(java.util.function.UnaryOperator<IscsiTarget.Builder> settings) throws IOException {
        return settings.apply(IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(TARGET, t -> t.ramLun(LUN_BYTES))).build().start();
    }

    static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format("%.1f MiB", bytes / 1048576.0);
    }

    static String signedMib(long bytes) {
        return String.format("%+.1f MiB", bytes / 1048576.0);
    }

    static byte[] randomBlob(Random random, int max) {
        byte[] b = new byte[1 + random.nextInt(max)];
        random.nextBytes(b);
        return b;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = Arrays.copyOf(parts[0], n);
        int at = parts[0].length;
        for (int k = 1; k < parts.length; k++) {
            System.arraycopy(parts[k], 0, out, at, parts[k].length);
            at += parts[k].length;
        }
        return out;
    }
}
