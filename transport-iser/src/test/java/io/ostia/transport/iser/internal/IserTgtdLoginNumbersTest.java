package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.scsi.Cdb;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.transport.iser.IserTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Ostia's initiator against a peer that logs in and numbers commands as tgt's iSER portal does
 * (the VM lab's tgtd, whose first SCSI command never got an answer): its final Login Response
 * says ExpCmdSN one past the login's CmdSN and MaxCmdSN at the login's, while its session
 * executes commands from the login's CmdSN on. RFC 7143 11.12.8 gives the first command the
 * login's CmdSN; taking the response's ExpCmdSN instead left the window shut, and a command sent
 * with it would wait at tgtd forever.
 */
class IserTgtdLoginNumbersTest {

    private static final int DEPTH = 16;
    private static final int IO = 8192;

    @Test
    void theFirstCommandCarriesTheLoginsCmdSNAndTheWindowThenOpens() throws Exception {
        RdmaProvider fabric = RdmaProviders.byName("loopback");
        List<String> objectsBefore = fabric.openObjects();
        IserTransport transport = new IserTransport(IserTransportOptions.defaults().withProvider("loopback"), () -> { });
        try (IserTestPeer peer = new IserTestPeer(fabric);
             ClosableInitiator initiator = Initiators.create(List.of(transport));
             Arena arena = Arena.ofShared()) {
            peer.asTgtd = true;
            CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
                try {
                    peer.acceptNext();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            SessionOptions options = SessionOptions.builder().portal("127.0.0.1", peer.address().getPort())
                    .initiatorName("iqn.2026-12.io.ostia:tgtd-numbers").targetName("iqn.2026-12.io.ostia:peer")
                    .transports("iser").queueDepth(DEPTH).nopInterval(Duration.ZERO)
                    .commandTimeout(Duration.ofSeconds(10)).build();
            try (Session session = initiator.login(options)) {
                accepted.get(5, TimeUnit.SECONDS);
                assertEquals("Yes", session.negotiatedParameters().get("RDMAExtensions"),
                        session.negotiatedParameters()::toString);

                ScsiResult ready = session.execute(ScsiRequest.none(0, Cdb.testUnitReady())).get(5, TimeUnit.SECONDS);
                assertTrue(ready.isGood(), ready::toString);

                // After the first answer the window is tgt's ExpCmdSN + 32: the whole depth in flight.
                List<CompletableFuture<ScsiResult>> reads = new ArrayList<>();
                for (int i = 0; i < DEPTH; i++) {
                    MemorySegment buffer = arena.allocate(IO, 4096);
                    reads.add(session.execute(ScsiRequest.read(0, Cdb.read10((long) i * 16, IO / 512), buffer)));
                }
                for (CompletableFuture<ScsiResult> read : reads) {
                    assertTrue(read.get(5, TimeUnit.SECONDS).isGood());
                }
            }

            int loginCmdSN = peer.received.stream().filter(LoginRequest.class::isInstance).map(LoginRequest.class::cast)
                    .reduce((a, b) -> b).orElseThrow().cmdSN();
            List<Integer> cmdSNs = peer.received.stream().filter(ScsiCommand.class::isInstance)
                    .map(p -> ((ScsiCommand) p).cmdSN()).toList();
            assertEquals(1 + DEPTH, cmdSNs.size(), cmdSNs::toString);
            for (int i = 0; i < cmdSNs.size(); i++) {
                assertEquals(loginCmdSN + i, cmdSNs.get(i), () -> "CmdSNs " + cmdSNs + " after a login with CmdSN " + loginCmdSN);
            }
        } finally {
            transport.close();
        }
        assertEquals(objectsBefore, fabric.openObjects(), "logout and close freed every RDMA object");
    }
}
