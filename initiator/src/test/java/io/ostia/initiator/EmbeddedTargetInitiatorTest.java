package io.ostia.initiator;

/** The same contract against Ostia's embedded target. */
class EmbeddedTargetInitiatorTest extends InitiatorContractTest {

    @Override
    EmbeddedPeer start(Peer.Config config) throws Exception {
        return EmbeddedPeer.start(dir, config);
    }
}
