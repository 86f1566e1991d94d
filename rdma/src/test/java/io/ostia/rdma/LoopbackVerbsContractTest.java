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
    void providerTestDone() {
        fabric.close();
    }

    @Override
    RdmaProvider provider() {
        return fabric;
    }

    @Override
    InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }
}
