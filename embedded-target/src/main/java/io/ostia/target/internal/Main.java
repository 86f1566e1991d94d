package io.ostia.target.internal;

import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a target from the command line until SIGINT/SIGTERM, for benchmarks and manual tests:
 *
 * <pre>
 * java -cp ... io.ostia.target.internal.Main [--portal host:port] [--target iqn]
 *      [--lun size[,file=path][,bs=4096][,ro]]...
 * </pre>
 *
 * Prints {@code listening on host:port} once ready. Sizes take K, M, G suffixes.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        String host = "127.0.0.1";
        int port = 3260;
        String name = "iqn.2026-01.io.ostia:target";
        List<LunSpec> luns = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--portal" -> {
                    int colon = require(args[i], value).lastIndexOf(':');
                    if (colon < 0) {
                        throw usage("--portal needs host:port, got " + value);
                    }
                    host = value.substring(0, colon);
                    port = Integer.parseInt(value.substring(colon + 1));
                    i++;
                }
                case "--target" -> {
                    name = require(args[i], value);
                    i++;
                }
                case "--lun" -> {
                    luns.add(parseLun(require(args[i], value)));
                    i++;
                }
                case "-h", "--help" -> {
                    System.out.println("usage: Main [--portal host:port] [--target iqn] [--lun size[,file=path][,bs=4096][,ro]]...");
                    return;
                }
                default -> throw usage("unknown argument " + args[i]);
            }
        }
        if (luns.isEmpty()) {
            luns.add(LunSpec.ram(256L << 20));
        }
        String portalHost = host;
        IscsiTarget target = IscsiTarget.builder()
                .portal(host, port)
                .logoutGrace(Duration.ofSeconds(2))
                .target(name, t -> {
                    for (int lun = 0; lun < luns.size(); lun++) {
                        t.lun(lun, luns.get(lun));
                    }
                })
                .build()
                .start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            target.close();
            stopped.countDown();
        }));
        System.out.println("listening on " + portalHost + ":" + target.port() + " as " + name);
        System.out.flush();
        stopped.await();
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw usage(option + " needs a value");
        }
        return value;
    }

    private static IllegalArgumentException usage(String message) {
        return new IllegalArgumentException(message + " (try --help)");
    }

    private static LunSpec parseLun(String text) {
        String[] parts = text.split(",");
        long size = parseSize(parts[0]);
        Path file = null;
        int blockSize = 512;
        boolean readOnly = false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            if (p.startsWith("file=")) {
                file = Path.of(p.substring(5));
            } else if (p.startsWith("bs=")) {
                blockSize = Integer.parseInt(p.substring(3));
            } else if (p.equals("ro")) {
                readOnly = true;
            } else {
                throw usage("unknown LUN option " + p + " in " + text);
            }
        }
        LunSpec spec = file == null ? LunSpec.ram(size) : LunSpec.file(file, size);
        return spec.withBlockSize(blockSize).withReadOnly(readOnly);
    }

    static long parseSize(String text) {
        String t = text.trim().toUpperCase();
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw usage("bad size " + text);
        }
    }
}
