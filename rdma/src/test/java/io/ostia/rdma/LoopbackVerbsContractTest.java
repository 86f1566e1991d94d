package io.ostia.rdma;

import io.ostia.rdma.loopback.LoopbackFabric;
import org.junit.jupiter.api.BeforeEach;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

class LoopbackVerbsContractTest extends VerbsContract {
    private LoopbackFabric fabric;

    @BeforeEach
    void createFabric() {
        fabric = LoopbackFabric.create();
    }

    @Override
    protected void providerTestDone() {
        fabric.close();
    }

    @Override
    protected RdmaProvider provider() {
        return fabric;
    }

    @Override
    protected RemovableDevice removableDevice() {
        return new RemovableDevice() {
            @Override
            public InetSocketAddress address() {
                return listenAddress();
            }

            @Override
            public void remove() {
                fabric.removeDevice(LoopbackFabric.DEFAULT_DEVICE);
            }

            @Override
            public void awaitRemoved(Duration bound) {
                // The fabric removes at once.
            }
        };
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }
}
