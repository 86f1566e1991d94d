package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.text.DiscoveredTarget;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.IserTransportOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Ostia's initiator against Ostia's target over iSER on the loopback fabric: discovery, login in
 * iSER-assisted mode, writes and reads with verified bytes, the whole command window in flight,
 * logout; and afterwards no RDMA object or iSER thread left. The VM lab runs it again on the
 * native provider and Soft-RoCE (a subclass naming another {@link #provider()} and {@link #host()}).
 */
class IserEndToEndTest {

    private static final String TARGET = "iqn.2026-01.io.ostia:iser-e2e";
    private static final String INITIATOR = "iqn.2026-01.io.ostia:iser-e2e-initiator";
    private static final int DEPTH = 32;
    private static final int IO = 64 * 1024;

    @Test
    void discoveryLoginVerifiedIoAtFullDepthAndLogout() throws Exception {
        RdmaProvider fabric = RdmaProviders.byName(provider());
        List<String> objectsBefore = fabric.openObjects();
        IserTransport transport = new IserTransport(IserTransportOptions.defaults().withProvider(provider()),
                () -> { });
        try (IscsiTarget target = IscsiTarget.builder().iserPortal(host(), 0, fabric)
                     .target(TARGET, t -> t.ramLun(DEPTH * IO)).build().start();
             ClosableInitiator initiator = Initiators.create(List.of(transport));
             Arena arena = Arena.ofShared()) {
            SessionOptions.Builder options = SessionOptions.builder().portal(host(), target.port())
                    .initiatorName(INITIATOR).transports("iser").queueDepth(DEPTH);
            List<DiscoveredTarget> found = initiator.discover(options.build());
            assertTrue(found.stream().anyMatch(t -> t.name().equals(TARGET)), found::toString);

            try (Session session = initiator.login(options.targetName(TARGET).build())) {
                assertEquals("iser", session.transport());
                assertEquals("Yes", session.negotiatedParameters().get("RDMAExtensions"), session.negotiatedParameters()::toString);
                BlockDevice lun = session.open(0);
                int blocksPerIo = IO / lun.blockSize();

                MemorySegment[] buffers = new MemorySegment[DEPTH];
                List<CompletableFuture<Void>> writes = new ArrayList<>();
                for (int i = 0; i < DEPTH; i++) {
                    buffers[i] = arena.allocate(IO, 4096);
                    for (int b = 0; b < IO; b += 4) {
                        buffers[i].set(ValueLayout.JAVA_INT_UNALIGNED, b, i * 0x01000193 ^ b);
                    }
                    writes.add(lun.writeAsync((long) i * blocksPerIo, buffers[i]));
                }
                CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

                MemorySegment[] readBack = new MemorySegment[DEPTH];
                List<CompletableFuture<Void>> reads = new ArrayList<>();
                for (int i = 0; i < DEPTH; i++) {
                    readBack[i] = arena.allocate(IO, 4096);
                    reads.add(lun.readAsync((long) i * blocksPerIo, readBack[i]));
                }
                CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < DEPTH; i++) {
                    assertArrayEquals(buffers[i].toArray(ValueLayout.JAVA_BYTE), readBack[i].toArray(ValueLayout.JAVA_BYTE),
                            "the " + IO + " bytes at block " + (long) i * blocksPerIo + " read back as written");
                }
                // A second pass on the same buffers registers nothing more.
                lun.read(0, readBack[0]);
                assertArrayEquals(buffers[0].toArray(ValueLayout.JAVA_BYTE), readBack[0].toArray(ValueLayout.JAVA_BYTE));
            }
        } finally {
            transport.close();
        }
        assertEquals(objectsBefore, fabric.openObjects(), "logout and leaving freed every RDMA object");
    }

    /** The RDMA provider of both the transport and the target's portal. */
    String provider() {
        return RdmaProviders.LOOPBACK;
    }

    /** The address the target's iSER portal listens on. */
    String host() {
        return "127.0.0.1";
    }
}
