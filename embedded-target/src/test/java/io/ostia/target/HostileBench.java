package io.ostia.target;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What hostile clients cost an embedded target with default settings, printed as figures (run by
 * {@code bench/hostile-churn.sh}; start the JVM with -XX:NativeMemoryTracking=summary for native
 * memory):
 * <ul>
 *   <li>{@code churn N}: N connections, 16 at a time, each sending random bytes and closing; peak
 *       threads and native memory against the baseline, and what is left 10 s after.</li>
 *   <li>{@code withhold SECONDS}: a logged-in initiator sends eight 256 MiB WRITE(16)s whose data
 *       never comes and answers pings, while a legitimate session writes and verifies; the
 *       legitimate session's errors and wrong bytes.</li>
 * </ul>
 */
public final class HostileBench {

    private HostileBench() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "churn";
        long n = args.length > 1 ? Long.parseLong(args[1]) : (mode.equals("churn") ? 10_000 : 10);
        java.util.logging.LogManager.getLogManager().reset(); // figures only: hostile clients log a lot
        switch (mode) {
            case "churn" -> churn((int) n);
            case "withhold" -> withhold(n);
            default -> throw new IllegalArgumentException("mode is churn or withhold, not " + mode);
        }
    }

    private static void churn(int count) throws Exception {
        try (IscsiTarget target = HostileClients.target(b -> b)) {
            System.gc();
            Thread.sleep(500);
            int threads0 = HostileClients.threads();
            long native0 = HostileClients.nativeBytes();
            long rss0 = HostileClients.rssBytes();
            long start = System.nanoTime();
            int connected;
            HostileClients.Peaks peaks = new HostileClients.Peaks();
            try (peaks) {
                connected = HostileClients.churn(target.port(), count, 16, 42);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (HostileClients.threads() > threads0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            System.gc();
            Thread.sleep(500);
            System.out.printf("churn: %d connections (%d connected) in %.1f s, 16 at a time%n", count, connected,
                    seconds);
            System.out.printf("threads: baseline %d, peak %d (target threads peak %d), after %d%n", threads0,
                    peaks.threads.get(), peaks.targetThreads.get(), HostileClients.threads());
            System.out.printf("native memory (NMT committed, not heap): baseline %s, peak %s (%s), after %s%n",
                    HostileClients.mib(native0), HostileClients.mib(peaks.nativeBytes.get()),
                    native0 < 0 ? "n/a" : HostileClients.signedMib(peaks.nativeBytes.get() - native0),
                    HostileClients.mib(HostileClients.nativeBytes()));
            System.out.printf("RSS: baseline %s, peak %s (%s), after %s%n", HostileClients.mib(rss0),
                    HostileClients.mib(peaks.rss.get()), HostileClients.signedMib(peaks.rss.get() - rss0),
                    HostileClients.mib(HostileClients.rssBytes()));
        }
    }

    private static void withhold(long seconds) throws Exception {
        try (IscsiTarget target = HostileClients.target(b -> b)) {
            AtomicBoolean stop = new AtomicBoolean();
            java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<List<Integer>> hog = CompletableFuture.supplyAsync(() -> {
                try {
                    return HostileClients.withholdData(target.port(), 0x0200_0000_0001L, 8, 256 << 20, stop, ready);
                } catch (Exception e) {
                    System.out.println("withholding initiator: " + e);
                    return new ArrayList<>();
                }
            }, Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon(true).factory()));
            if (!ready.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                System.out.println("withholding initiator: not every command was answered in 60 s");
            }
            CompletableFuture<HostileClients.LegitResult> legit = CompletableFuture.supplyAsync(() ->
                    HostileClients.legitimate(target.port(), 0x0200_0000_0002L, stop, 7),
                    Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon(true).factory()));
            Thread.sleep(seconds * 1000);
            stop.set(true);
            HostileClients.LegitResult r = legit.get();
            List<Integer> hogStatuses = hog.get();
            System.out.printf("withhold: legitimate session over %d s: %d writes, %d errors, %d wrong bytes%s%n",
                    seconds, r.writes(), r.errors(), r.wrongBytes(),
                    r.firstErrors().isEmpty() ? "" : " (first: " + r.firstErrors() + ")");
            System.out.printf("withholding initiator got %d responses: %s%n", hogStatuses.size(),
                    hogStatuses.stream().map(s -> "0x" + Integer.toHexString(s)).distinct().toList());
        }
    }
}
