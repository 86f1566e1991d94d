package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.composite;

import io.ostia.api.FailbackPolicy;
import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.SessionEvent.MoveReason;
import io.ostia.api.SessionOptions;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.SessionEventQueue;
import io.ostia.initiator.WriteVerifyLoad;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import java.lang.foreign.Arena;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceListener;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Hot deploy in Felix: a container running a session over TCP against Ostia's embedded target
 * (TCP and iSER portals on one port, iSER on the JVM's loopback RDMA fabric); the
 * io.ostia.transport.iser bundle is installed and started under a continuous write-and-verify
 * load, the session moves to it by its failback policy, then by switchTransport both ways; the
 * bundle is uninstalled under that load and the session moves back to TCP. Zero failed
 * commands, and every acknowledged write reads back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class IserHotSwapIT extends InContainerTest {

    private static final String TARGET = "iqn.2026-12.io.ostia.itest:hot-swap";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @Inject
    private ConfigurationAdmin configAdmin;

    /** The base container, with Config Admin, the RDMA bundle and the embedded target; iSER is deployed by the test. */
    @Configuration
    @Override
    public Option[] config() {
        String folder = System.getProperty("ostia.itest.bundles");
        return new Option[] {composite(super.config()),
                bundle(Path.of(folder, "org.apache.felix.configadmin.jar").toUri().toString()),
                bundle(Path.of(folder, "ostia-rdma.jar").toUri().toString()),
                bundle(Path.of(folder, "ostia-target.jar").toUri().toString())};
    }

    @Test
    public void aSessionMovesToAHotDeployedIserBundleAndBackWhenItIsUninstalledWithNothingLost() throws Exception {
        // The iSER component reads its provider from Config Admin before it activates.
        Hashtable<String, Object> iserConfig = new Hashtable<>();
        iserConfig.put("provider", "loopback");
        configAdmin.getConfiguration("io.ostia.transport.iser", "?").update(iserConfig);

        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", port)
                .iserPortal("127.0.0.1", port, RdmaProviders.byName(RdmaProviders.LOOPBACK))
                .logoutGrace(Duration.ofMillis(200)).target(TARGET, t -> t.ramLun(16L << 20)).build().start()) {
            Session session = initiator.login(SessionOptions.builder().portal("127.0.0.1", port).targetName(TARGET)
                    .transports("iser", "tcp").failback(FailbackPolicy.PREFERRED).build());
            assertEquals("tcp", session.transport());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(0), 8, 16, 16L << 20 >> 9).start()) {
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                String folder = System.getProperty("ostia.itest.bundles");
                Bundle iser = context.installBundle(Path.of(folder, "ostia-transport-iser.jar").toUri().toString());
                iser.start();
                SessionEvent.Moved toIser = events.next(SessionEvent.Moved.class, m -> m.reason() == MoveReason.FAILBACK, WAIT);
                assertEquals("by the failback policy", List.of("tcp", "iser", "FAILBACK"),
                        List.of(toIser.from(), toIser.to(), toIser.reason().name()));
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                Duration toTcp = session.switchTransport("tcp");
                assertEquals("tcp", session.transport());
                Duration back = session.switchTransport("iser");
                assertEquals("iser", session.transport());
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                iser.uninstall();
                SessionEvent.Moved away = events.next(SessionEvent.Moved.class, m -> m.reason() == MoveReason.TRANSPORT_LEAVING, WAIT);
                assertEquals(List.of("iser", "tcp"), List.of(away.from(), away.to()));
                assertEquals("tcp", session.transport());
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                assertTrue("the load's writers stop", load.stop(WAIT));
                long checked = load.verifyAll();
                System.out.println("hot swap in Felix: pauses " + toIser.pause().toMillis() + " ms (failback), " + toTcp.toMillis()
                        + " ms, " + back.toMillis() + " ms (switchTransport), " + away.pause().toMillis()
                        + " ms (uninstall); " + load + "; " + checked + " chunks read back");
                assertEquals(load.toString(), 0, load.failures());
                assertEquals(load.toString(), 0, load.mismatches());
                assertTrue(load.toString(), checked > 0);
            }
            session.close();
        }
    }

    /**
     * The iSER component's {@code @Modified}: a change of its timeouts under load leaves the
     * service registered and the session on its connection; a change that needs a restart (the
     * queue depth) is refused and changes nothing.
     */
    @Test
    public void aConfigurationChangeOfTheIserTransportKeepsItsSessions() throws Exception {
        Hashtable<String, Object> iserConfig = new Hashtable<>();
        iserConfig.put("provider", "loopback");
        org.osgi.service.cm.Configuration config = configAdmin.getConfiguration("io.ostia.transport.iser", "?");
        config.update(iserConfig);
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        String folder = System.getProperty("ostia.itest.bundles");
        Bundle iser = context.installBundle(Path.of(folder, "ostia-transport-iser.jar").toUri().toString());
        List<String> serviceEvents = new CopyOnWriteArrayList<>();
        ServiceListener listener = e -> serviceEvents.add(e.getType() + " " + e.getServiceReference()
                .getProperty(IscsiTransport.NAME_PROPERTY));
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", port)
                .iserPortal("127.0.0.1", port, RdmaProviders.byName(RdmaProviders.LOOPBACK))
                .logoutGrace(Duration.ofMillis(200)).target(TARGET, t -> t.ramLun(16L << 20)).build().start()) {
            iser.start();
            Support.await(WAIT, () -> "transports: " + initiator.transports(), () -> initiator.transports().contains("iser"));
            Session session = initiator.login(SessionOptions.builder().portal("127.0.0.1", port).targetName(TARGET)
                    .transports("iser").build());
            assertEquals("iser", session.transport());
            SessionEventQueue events = new SessionEventQueue();
            session.addListener(events);
            events.next(SessionEvent.LoggedIn.class, WAIT);
            context.addServiceListener(listener, "(objectClass=" + IscsiTransport.class.getName() + ")");
            try (WriteVerifyLoad load = new WriteVerifyLoad(session.open(0), 8, 16, 16L << 20 >> 9).start()) {
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));
                iserConfig.put("releaseTimeoutMillis", 8_000L);
                iserConfig.put("connectTimeoutMillis", 5_000L);
                config.update(iserConfig);
                Support.await(WAIT, () -> "the iSER transport's release timeout: " + iserTransport().releaseTimeout(),
                        () -> iserTransport().releaseTimeout().equals(Duration.ofSeconds(8)));
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                iserConfig.put("maxQueueDepth", 64);
                config.update(iserConfig);
                Thread.sleep(500); // SCR hands the change over asynchronously; nothing is to change
                assertEquals("a refused change keeps the options", Duration.ofSeconds(8), iserTransport().releaseTimeout());
                assertTrue(load.toString(), load.awaitWrites(50, WAIT));

                assertTrue("the load's writers stop", load.stop(WAIT));
                assertTrue(load.toString(), load.verifyAll() > 0);
                assertEquals(load.toString(), 0, load.failures());
                assertEquals(load.toString(), 0, load.mismatches());
            }
            assertEquals("the session stayed on its connection: events", List.of(), events.drain());
            assertEquals("iser", session.transport());
            // Property changes are not expected either: the component registers its service by hand, unchanged.
            assertEquals("transport service events while reconfiguring", List.of(), serviceEvents);
            session.close();
        } finally {
            context.removeServiceListener(listener);
            iser.uninstall();
            config.delete();
        }
    }

    private IscsiTransport iserTransport() {
        try {
            var refs = context.getServiceReferences(IscsiTransport.class, "(" + IscsiTransport.NAME_PROPERTY + "=iser)");
            if (refs.isEmpty()) {
                throw new AssertionError("no iser transport service");
            }
            return context.getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A persistent reservation across a swap: the same initiator name and ISID are the same I_T
     * nexus (SAM-5 4.6), so the holder still writes after the move and another initiator still
     * may not. (tgtd differs: TgtdSwapIT.)
     */
    @Test
    public void aPersistentReservationHolderKeepsItAcrossASwap() throws Exception {
        long key = 0x0571A0000000000CL;
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", port).logoutGrace(Duration.ofMillis(200))
                .target(TARGET, t -> t.ramLun(1L << 20)).build().start();
                Arena arena = Arena.ofShared()) {
            SessionOptions.Builder options = SessionOptions.builder().portal("127.0.0.1", port).targetName(TARGET)
                    .transports("tcp");
            try (Session holder = initiator.login(options.build())) {
                PersistentReservations.registerAndReserve(holder, 0, arena, key);
                Duration pause = holder.switchTransport("tcp");
                assertEquals("the reservation is still the holder's", key,
                        PersistentReservations.reservationKey(holder, 0, arena));
                assertEquals("the holder writes after the swap (" + pause.toMillis() + " ms)", ScsiStatus.GOOD,
                        PersistentReservations.writeOneBlock(holder, 0, arena, WAIT).status());
                try (Session other = initiator.login(options.initiatorName(TARGET + "-other-initiator").build())) {
                    assertEquals("another I_T nexus may not write", ScsiStatus.RESERVATION_CONFLICT,
                            PersistentReservations.writeOneBlock(other, 0, arena, WAIT).status());
                }
            }
        }
    }
}
