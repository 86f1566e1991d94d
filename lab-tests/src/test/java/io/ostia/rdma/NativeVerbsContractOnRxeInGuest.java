package io.ostia.rdma;

import io.ostia.lab.Rxe;
import io.ostia.testing.ExternalTool;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The native provider's verbs contract on the lab guest's Soft-RoCE device ({@code rxe0} on
 * dummy0, whose address the lab passes as {@code ostia.rdma.test.address}): the real rdma-core
 * and kernel are the oracle the loopback fabric and the C stand-ins must agree with. In this
 * package because the contract's test class is package-private.
 *
 * <p>The removal test gets a device of its own, {@code rxe2} on {@code dummy2} (198.51.100.1),
 * made for it and deleted by it ({@code rdma link delete}, which waits for every user), so that
 * rxe0 stays for the other suites.
 */
class NativeVerbsContractOnRxeInGuest extends NativeVerbsContractTest {
    private static final String DEVICE = "rxe2";
    private static final String NETDEV = "dummy2";
    private static final String ADDRESS = "198.51.100.1";
    private static final Duration BOUND = Duration.ofSeconds(60);

    @Override
    protected RemovableDevice removableDevice() throws Exception {
        run("ip", "link", "add", NETDEV, "type", "dummy");
        run("ip", "addr", "add", ADDRESS + "/24", "dev", NETDEV);
        run("ip", "link", "set", NETDEV, "up");
        run("rdma", "link", "add", DEVICE, "type", "rxe", "netdev", NETDEV);
        Rxe.awaitUsable(DEVICE, ADDRESS, BOUND);
        return new RemovableDevice() {
            private CompletableFuture<ExternalTool.Result> removal;

            @Override
            public InetSocketAddress address() {
                return new InetSocketAddress(ADDRESS, 0);
            }

            @Override
            public void remove() {
                removal = CompletableFuture.supplyAsync(() -> ExternalTool.run(BOUND, List.of("rdma", "link", "delete", DEVICE)),
                        r -> Thread.ofPlatform().name("rdma-link-delete-" + DEVICE).start(r));
            }

            @Override
            public void awaitRemoved(Duration bound) throws Exception {
                long started = System.nanoTime();
                try {
                    removal.get(bound.toMillis(), TimeUnit.MILLISECONDS).requireSuccess();
                } catch (TimeoutException e) {
                    throw new AssertionError("rdma link delete " + DEVICE + " still waiting " + bound
                            + " after everything was closed: this process still holds the device", e);
                }
                System.out.printf("[contract] rdma link delete %s completed %d ms after everything was closed%n", DEVICE,
                        (System.nanoTime() - started) / 1_000_000);
                run("ip", "link", "delete", NETDEV);
            }
        };
    }

    private static void run(String... command) {
        ExternalTool.run(BOUND, List.of(command)).requireSuccess();
    }
}
