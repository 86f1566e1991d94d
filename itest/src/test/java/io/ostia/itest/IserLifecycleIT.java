package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.ostia.api.Initiator;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.ConnectionOwner;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The iSER bundle in Felix with Declarative Services, configured through Configuration Admin for
 * the in-JVM loopback fabric (no RDMA device needed), against Ostia's target's iSER portal in the
 * same container: a session does I/O over iSER; stopping the bundle runs the transport's leaving
 * order, seen through service events and the log (connects refused, owners told, the drain, an
 * error naming the connection nobody stopped, unregistration last); starting it registers the
 * transport again and a new session works.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class IserLifecycleIT extends InContainerTest {
    private static final String ISER_BUNDLE = "io.ostia.transport.iser";
    private static final String PID = "io.ostia.transport.iser";
    private static final String IQN = "iqn.2026-12.io.ostia.itest:iser";
    private static final int CHUNK = 64 << 10;
    private static final Duration BOUND = Duration.ofSeconds(20);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    private Bundle iser;
    private Configuration configuration;

    @Override
    protected String[] moreBundles() {
        return new String[] {"org.apache.felix.configadmin", "ostia-rdma", "ostia-transport-iser", "ostia-target"};
    }

    @Before
    public void configureTheLoopbackProvider() throws Exception {
        for (Bundle b : context.getBundles()) {
            if (ISER_BUNDLE.equals(b.getSymbolicName())) {
                iser = b;
            }
        }
        assertNotNull("bundle " + ISER_BUNDLE + " is installed", iser);
        configuration = configurationAdmin.getConfiguration(PID, "?");
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put("provider", RdmaProviders.LOOPBACK);
        properties.put("releaseTimeoutMillis", 2000L);
        configuration.update(properties);
        Support.await(BOUND, () -> "the iser transport service is registered", this::transportRegistered);
    }

    @After
    public void removeTheConfiguration() throws Exception {
        if (iser.getState() != Bundle.ACTIVE) {
            iser.start();
        }
        configuration.delete();
    }

    @Test
    public void stoppingTheBundleLeavesInOrderAndStartingItBringsTheTransportBack() throws Exception {
        try (IscsiTarget target = IscsiTarget.builder()
                .iserPortal("127.0.0.1", 0, RdmaProviders.byName(RdmaProviders.LOOPBACK))
                .target(IQN, t -> t.ramLun(32L << 20)).build().start();
             Arena arena = Arena.ofShared()) {
            InetSocketAddress portal = target.addresses().getFirst();
            SessionOptions options = SessionOptions.fromUrl(IscsiUrl.parse("iscsi://127.0.0.1:" + portal.getPort()
                    + "/" + IQN + "/0")).transports("iser").replacementTimeout(Duration.ofSeconds(30)).build();
            Session session = initiator.login(options);
            assertEquals("iser", session.transport());
            Support.writeReadBack(session.open(0), arena, 0, 1 << 20, CHUNK, 1);

            // A connection whose owner never stops it: leaving must force-release it, naming it.
            IscsiTransport transport = context.getService(
                    context.getServiceReferences(IscsiTransport.class, "(" + IscsiTransport.NAME_PROPERTY + "=iser)")
                            .iterator().next());
            List<String> stubborn = new CopyOnWriteArrayList<>();
            TransportEndpoint endpoint = transport.connect(portal);
            assertTrue("up", endpoint.poll(BOUND));
            TransportConnection connection = transport.createConnection(new Stubborn(stubborn), 4);
            connection.bind(endpoint, true);

            try (Timeline timeline = new Timeline(context, () -> "session on " + session.transport())) {
                iser.stop();
                timeline.add("bundle stopped");
                timeline.assertOrder("iSER transport leaving: new connects are refused",
                        "force-releasing iSER connection", "service UNREGISTERING iser", "iSER transport unregistered",
                        "bundle stopped");
                String atUnregistering = timeline.first("service UNREGISTERING iser").what();
                assertTrue("the session had left its iSER connection when the service went: " + atUnregistering
                        + "\n" + timeline, atUnregistering.contains("session on (reconnecting)"));
                assertEquals("the stubborn owner was told, then failed: " + stubborn, List.of("leaving", "failed"),
                        stubborn);
                assertFalse("no iser service while the bundle is stopped", transportRegistered());
                Support.await(Duration.ofSeconds(5), () -> "iSER threads left: " + Support.threads("ostia-iser"),
                        () -> Support.threads("ostia-iser").isEmpty());

                iser.start();
                timeline.add("bundle started");
                Support.await(BOUND, () -> "the iser transport is back", this::transportRegistered);
                timeline.assertOrder("bundle stopped", "service REGISTERED iser");
                System.out.println("iSER bundle stop and start, as observed:\n" + timeline);
            }
            connection.destroy();
            try (Session fresh = initiator.login(options)) {
                assertEquals("iser", fresh.transport());
                Support.writeReadBack(fresh.open(0), arena, 4 << 20, 2 << 20, CHUNK, 2);
            }
            Support.await(BOUND, () -> "the old session is on " + session.transport(),
                    () -> "iser".equals(session.transport()));
            session.close();
        }
    }

    private boolean transportRegistered() {
        try {
            return !context.getServiceReferences(IscsiTransport.class, "(" + IscsiTransport.NAME_PROPERTY + "=iser)")
                    .isEmpty();
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An owner that never stops its connection: it only notes what it hears. */
    private record Stubborn(List<String> heard) implements ConnectionOwner {
        @Override
        public void pduReceived(Pdu pdu) {
        }

        @Override
        public void commandWindowUpdate(int expCmdSN, int maxCmdSN) {
        }

        @Override
        public int expectedStatSN() {
            return 0;
        }

        @Override
        public void connectionFailed(Throwable cause) {
            heard.add("failed");
        }

        @Override
        public void transportLeaving(IscsiTransport transport) {
            heard.add("leaving");
        }
    }
}
