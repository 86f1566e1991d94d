package io.ostia.rdma;

import io.ostia.rdma.loopback.LoopbackFabric;
import org.junit.jupiter.api.BeforeEach;

import java.net.InetAddress;
import java.net.InetSocketAddress;

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
    protected InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }
}
