package io.ostia.rdma;

/**
 * The native provider's verbs contract on the lab guest's Soft-RoCE device ({@code rxe0} on
 * dummy0, whose address the lab passes as {@code ostia.rdma.test.address}): the real rdma-core
 * and kernel are the oracle the loopback fabric and the C stand-ins must agree with. In this
 * package because the contract's test class is package-private.
 */
class NativeVerbsContractOnRxeInGuest extends NativeVerbsContractTest {
}
