package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.spi.IscsiTransport;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * After the bundles have been used, stopping them leaves no Ostia thread, no service and no
 * service use behind; starting them again restores the components, the services and the same
 * set of threads as before; no tgtd the test started is left running. Stopping the initiator
 * bundle with sessions open logs every one out and leaves no thread and no connection.
 */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class HygieneIT extends InContainerTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @After
    public void everyOstiaBundleRunning() throws Exception {
        for (Bundle b : List.of(bundle("io.ostia.transport.tcp"), bundle("io.ostia.initiator"))) {
            if (b.getState() != Bundle.ACTIVE) {
                b.start();
            }
        }
    }

    @Test
    public void stoppingTheBundlesLeavesNothingBehindAndStartingThemRestoresEverything() throws Exception {
        List<String> afterUse = useAndClose(initiator);
        // The initiator keeps one timer thread (started by its first session) while its bundle runs.
        assertEquals("Ostia threads once every session is closed", List.of("ostia-initiator-timer"), afterUse);

        Bundle tcp = bundle("io.ostia.transport.tcp");
        Bundle init = bundle("io.ostia.initiator");
        ServiceReference<IscsiTransport> transport = context.getServiceReference(IscsiTransport.class);
        assertNotNull("the TCP transport service", transport);
        assertTrue("the initiator bundle uses the transport service", usedBy(transport, init));

        init.stop();
        assertNull("the Initiator service once its bundle stopped", context.getServiceReference(Initiator.class));
        assertTrue("the stopped initiator still uses the transport service", !usedBy(transport, init));
        tcp.stop();
        assertNull("a transport service once its bundle stopped", context.getServiceReference(IscsiTransport.class));
        Support.await(BOUND, () -> "Ostia threads left with its bundles stopped: " + Support.threads("ostia-"),
                () -> Support.threads("ostia-").isEmpty());

        tcp.start();
        init.start();
        ServiceTracker<Initiator, Initiator> tracker = new ServiceTracker<>(context, Initiator.class, null);
        tracker.open();
        try {
            Initiator again = tracker.waitForService(BOUND.toMillis());
            assertNotNull("the Initiator service after its bundle started again", again);
            // The initiator is a delayed component: getting its service activated it.
            assertComponentsActive(tcp, init);
            assertEquals("transports of the restarted initiator", List.of("tcp"), again.transports());
            assertEquals("Ostia threads after the same work on the restarted bundles", afterUse, useAndClose(again));
        } finally {
            tracker.close();
        }
    }

    @Test
    public void stoppingTheInitiatorBundleLogsEverySessionOutAndLeavesNoThreadOrConnection() throws Exception {
        Bundle init = bundle("io.ostia.initiator");
        try (TgtdTarget t = TgtdTarget.start(16L << 20); Arena arena = Arena.ofShared()) {
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Session s = initiator.login(t.options().build());
                Support.writeReadBack(s.open(1), arena, i << 20, 1 << 20, 64 << 10, i + 1);
                sessions.add(s);
            }
            assertEquals("I_T nexuses on tgtd", 3, nexuses(t));
            assertEquals("connections to tgtd", 3, establishedTo(t.tgtd.port()));
            assertEquals("receive threads", 3, Support.threads("ostia-tcp-rx").size());

            init.stop();
            for (Session s : sessions) {
                assertFalse("a session still open once the initiator bundle stopped", s.isOpen());
            }
            Support.await(Duration.ofSeconds(10), () -> "I_T nexuses on tgtd: " + nexuses(t), () -> nexuses(t) == 0);
            Support.await(Duration.ofSeconds(10), () -> "connections to tgtd: " + establishedTo(t.tgtd.port()),
                    () -> establishedTo(t.tgtd.port()) == 0);
            Support.await(Duration.ofSeconds(10), () -> "receive threads: " + Support.threads("ostia-tcp-rx"),
                    () -> Support.threads("ostia-tcp-rx").isEmpty());
            Support.await(Duration.ofSeconds(10), () -> "initiator threads: " + Support.threads("ostia-initiator"),
                    () -> Support.threads("ostia-initiator").isEmpty());
        } finally {
            init.start();
            ServiceTracker<Initiator, Initiator> tracker = new ServiceTracker<>(context, Initiator.class, null);
            tracker.open();
            try {
                assertTrue("the Initiator service is back", tracker.waitForService(BOUND.toMillis()) != null);
            } finally {
                tracker.close();
            }
        }
    }

    /** The target's I_T nexuses, as {@code tgtadm --op show} lists them. */
    private static int nexuses(TgtdTarget t) {
        Matcher m = Pattern.compile("I_T nexus: \\d+").matcher(t.tgtd.tgtadm("--mode", "target", "--op", "show"));
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * Established TCP connections from here to 127.0.0.1:{@code port}, from /proc/net/tcp and
     * tcp6 (Java's sockets are dual-stack: IPv4 peers show as ::ffff:127.0.0.1 there).
     */
    private static int establishedTo(int port) {
        String remote = String.format("0100007F:%04X", port);
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                n += (int) Files.readAllLines(Path.of(table)).stream().skip(1).map(line -> line.trim().split("\\s+"))
                        .filter(f -> f[2].endsWith(remote) && f[3].equals("01")).count();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read " + table, e);
            }
        }
        return n;
    }

    /**
     * Logs in to a fresh tgtd, does I/O, logs out and stops tgtd; returns the Ostia threads left
     * once the receive threads have ended, after checking no tgtd of the test still runs.
     */
    private static List<String> useAndClose(Initiator initiator) throws Exception {
        String portal;
        try (TgtdTarget t = TgtdTarget.start(16L << 20); Arena arena = Arena.ofShared()) {
            portal = "portal=127.0.0.1:" + t.tgtd.port();
            try (Session session = initiator.login(t.options().build())) {
                Support.writeReadBack(session.open(1), arena, 0, 2 << 20, 64 << 10, 7);
                assertTrue("a receive thread carries the session", !Support.threads("ostia-tcp-rx").isEmpty());
            }
        }
        assertEquals("tgtd processes the test started that still run", List.of(), processesWith(portal));
        Support.await(BOUND, () -> "receive threads after logout: " + Support.threads("ostia-tcp-rx"),
                () -> Support.threads("ostia-tcp-rx").isEmpty());
        return Support.threads("ostia-");
    }

    private void assertComponentsActive(Bundle... bundles) {
        ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
        assertNotNull("Felix SCR's ServiceComponentRuntime", ref);
        ServiceComponentRuntime scr = context.getService(ref);
        try {
            for (Bundle b : bundles) {
                List<String> states = new ArrayList<>();
                Collection<ComponentDescriptionDTO> descriptions = scr.getComponentDescriptionDTOs(b);
                for (ComponentDescriptionDTO d : descriptions) {
                    assertTrue(d.name + " is enabled", scr.isComponentEnabled(d));
                    // The shell commands are a delayed component nobody has asked for here: satisfied is its rest.
                    int expected = d.properties.containsKey("osgi.command.scope") ? ComponentConfigurationDTO.SATISFIED
                            : ComponentConfigurationDTO.ACTIVE;
                    for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                        states.add(d.name + "=" + c.state);
                        assertEquals(d.name + " state (" + ComponentConfigurationDTO.ACTIVE + " is ACTIVE, "
                                + ComponentConfigurationDTO.SATISFIED + " SATISFIED; " + c.failure + ")", expected, c.state);
                    }
                }
                assertEquals("component configurations of " + b.getSymbolicName() + ": " + states, descriptions.size(),
                        states.size());
            }
        } finally {
            context.ungetService(ref);
        }
    }

    private static boolean usedBy(ServiceReference<?> ref, Bundle bundle) {
        Bundle[] users = ref.getUsingBundles();
        return users != null && List.of(users).contains(bundle);
    }

    private Bundle bundle(String symbolicName) {
        return Support.bundle(context, symbolicName);
    }

    private static List<String> processesWith(String argument) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(args -> List.of(args).contains(argument)).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .toList();
    }
}
