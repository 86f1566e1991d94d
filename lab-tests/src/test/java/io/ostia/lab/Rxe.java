package io.ostia.lab;

import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The lab guest's Soft-RoCE device as the in-guest iSER tests use it: the native provider on
 * {@code rxe0}, whose netdev ({@code dummy0}) has the address the lab passes as
 * {@code ostia.rdma.test.address}.
 */
public final class Rxe {

    /** The verbs device and its netdev, as the guest's init makes them. */
    static final String DEVICE = "rxe0";
    static final String NETDEV = "dummy0";

    private Rxe() {
    }

    /**
     * The address of rxe0's netdev; skips the calling test (saying why) outside the lab's guest:
     * without a native RDMA device, or without the address.
     */
    public static String address() {
        RdmaProvider provider = RdmaProviders.byName(RdmaProviders.NATIVE);
        assumeTrue(provider.isAvailable(), () -> "no native RDMA device (not in the lab's guest?): "
                + provider.unavailabilityCause().getMessage());
        String address = System.getProperty("ostia.rdma.test.address");
        assumeTrue(address != null, "ostia.rdma.test.address is not set: the lab's guest sets it to rxe0's address");
        return address;
    }

    /** The native provider, after {@link #address()} found it usable. */
    public static RdmaProvider provider() {
        return RdmaProviders.byName(RdmaProviders.NATIVE);
    }

    /**
     * Waits until rxe0's port is ACTIVE and its GID table holds {@code address} again: both come
     * back asynchronously after the netdev comes up or the device is added, and a connect made
     * before is lost (the CM's request goes nowhere and is retried for tens of seconds).
     *
     * @throws IllegalStateException naming what is missing when {@code limit} passes
     */
    static void awaitUsable(String address, Duration limit) throws InterruptedException {
        awaitUsable(DEVICE, address, limit);
    }

    /** As {@link #awaitUsable(String, Duration)}, for another rxe device. */
    public static void awaitUsable(String device, String address, Duration limit) throws InterruptedException {
        Path port = Path.of("/sys/class/infiniband", device, "ports", "1");
        String gid = ipv4MappedGid(address);
        long deadline = System.nanoTime() + limit.toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            String state = read(port.resolve("state"));
            List<String> gids = gids(port.resolve("gids"));
            if (state.contains("ACTIVE") && gids.contains(gid)) {
                return;
            }
            seen = "port state \"" + state.trim() + "\", GIDs " + gids;
            Thread.sleep(50);
        }
        throw new IllegalStateException(device + " not usable on " + address + " (GID " + gid + ") within " + limit + ": " + seen);
    }

    private static String ipv4MappedGid(String address) {
        byte[] v4;
        try {
            v4 = InetAddress.getByName(address).getAddress();
        } catch (IOException e) {
            throw new IllegalArgumentException("not an address: " + address, e);
        }
        String hex = HexFormat.of().formatHex(v4);
        return "0000:0000:0000:0000:0000:ffff:" + hex.substring(0, 4) + ":" + hex.substring(4);
    }

    private static List<String> gids(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(Rxe::read).map(String::trim).filter(g -> !g.matches("[0:]+")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            // Absent while the device is gone, and unreadable for unused GID slots.
            return "";
        }
    }
}
