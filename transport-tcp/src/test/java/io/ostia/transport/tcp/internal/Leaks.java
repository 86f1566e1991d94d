package io.ostia.transport.tcp.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/** Counts what the transport must never leak: receive threads and file descriptors. */
final class Leaks {

    private Leaks() {
    }

    /**
     * Makes the JDK open its own lifelong descriptors (NIO keeps a socket for closing channels
     * that other threads use) before a test takes its baseline.
     */
    static void warmUp() throws IOException {
        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open()
                .bind(new java.net.InetSocketAddress("127.0.0.1", 0));
             java.nio.channels.SocketChannel client = java.nio.channels.SocketChannel.open(server.getLocalAddress());
             java.nio.channels.SocketChannel accepted = server.accept();
             java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
            client.configureBlocking(false);
            client.register(selector, java.nio.channels.SelectionKey.OP_READ);
            accepted.configureBlocking(false);
        }
    }

    /** Receive threads and descriptors at the start of a test, to compare with at its end. */
    record Baseline(int threads, int fds, java.util.List<String> fdTargets) {

        /** Asserts that threads and descriptors came back (waiting a little) and nothing is left open. */
        void assertNothingLeft(TcpTransport transport) throws InterruptedException {
            org.junit.jupiter.api.Assertions.assertEquals(threads, settle(Leaks::receiveThreads, threads),
                    "receive threads left");
            org.junit.jupiter.api.Assertions.assertEquals(fds, settle(Leaks::openFileDescriptors, fds),
                    () -> "file descriptors left: " + added(fdTargets, fileDescriptorTargets()));
            org.junit.jupiter.api.Assertions.assertEquals(0, transport.openEndpoints(), "endpoints not released");
        }
    }

    static Baseline baseline() {
        return new Baseline(receiveThreads(), openFileDescriptors(), fileDescriptorTargets());
    }

    static int receiveThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("ostia-tcp-rx-") && thread.isAlive()).count();
    }

    static int openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc/self/fd", e);
        }
    }

    /** What each open descriptor points at (socket:[inode], anon_inode:[eventpoll], files), for messages. */
    static java.util.List<String> fileDescriptorTargets() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    return fd.getFileName() + "->" + link + socketState(link);
                } catch (IOException e) {
                    return fd.getFileName() + "->(gone)";
                }
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc/self/fd", e);
        }
    }

    /** For a socket:[inode] link, its line of /proc/net/tcp or tcp6 (addresses and state in hex). */
    private static String socketState(String link) {
        if (!link.startsWith("socket:[")) {
            return "";
        }
        String inode = link.substring(8, link.length() - 1);
        try (Stream<String> lines = Stream.concat(Files.lines(Path.of("/proc/net/tcp")),
                Files.lines(Path.of("/proc/net/tcp6")))) {
            return lines.map(String::trim).filter(line -> line.split("\\s+").length > 9
                    && line.split("\\s+")[9].equals(inode)).map(line -> " " + String.join(" ",
                    java.util.Arrays.copyOfRange(line.split("\\s+"), 1, 4))).findFirst().orElse(" (not TCP)");
        } catch (IOException e) {
            return " (/proc/net/tcp unreadable)";
        }
    }

    /** The descriptors in {@code after} that are not in {@code before}. */
    static java.util.List<String> added(java.util.List<String> before, java.util.List<String> after) {
        java.util.List<String> added = new java.util.ArrayList<>(after);
        added.removeAll(before);
        return added;
    }

    /** Waits up to 5 s for {@code count} to come down to {@code expected}, and returns what it is then. */
    static int settle(IntSupplier count, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        int now = count.getAsInt();
        while (now > expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            now = count.getAsInt();
        }
        return now;
    }
}
