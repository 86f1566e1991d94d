package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.Initiator;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.inject.Inject;
import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * Configuration Admin (Felix ConfigAdmin) changing the initiator's and the TCP transport's
 * configuration while a session carries a continuous write load: both components apply the change
 * in place (their {@code @Modified}), so neither service is unregistered, the session stays on its
 * connection, no write fails and every one reads back; later logins start from the new values.
 */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class ConfigurationIT extends InContainerTest {
    private static final String INITIATOR_PID = "io.ostia.initiator";
    private static final String TCP_PID = "io.ostia.transport.tcp";
    private static final long LUN_BYTES = 64L << 20;
    private static final int CHUNK = 64 << 10;
    private static final long ROUND_BYTES = 2 << 20;
    private static final Duration BOUND = Duration.ofSeconds(20);

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    @Inject
    private ServiceComponentRuntime scr;

    @Override
    protected String[] moreBundles() {
        return new String[] {"org.apache.felix.configadmin"};
    }

    /**
     * The next test finds both components on their defaults again. Configuration Admin tells SCR
     * asynchronously, and a configuration made again before SCR heard of the deletion can be lost
     * with it, so this waits until both components run on their defaults.
     */
    @After
    public void deleteConfigurations() throws Exception {
        for (String pid : List.of(INITIATOR_PID, TCP_PID)) {
            Configuration c = configurationAdmin.getConfiguration(pid, "?");
            if (c.getProperties() != null) {
                c.delete();
            }
        }
        SessionOptions defaults = SessionOptions.builder().portal("127.0.0.1", 3260).transports("iser", "tcp").build();
        Support.await(BOUND, () -> "the initiator back on its defaults: " + options() + ", the TCP component's properties "
                + componentProperties("TcpTransportComponent"), () -> options().toString().equals(defaults.toString())
                && options().loginTimeout().equals(defaults.loginTimeout())
                && options().replacementTimeout().equals(defaults.replacementTimeout())
                && Long.valueOf(10_000L).equals(componentProperties("TcpTransportComponent").get("connectTimeoutMillis"))
                && !componentProperties("InitiatorComponent").containsKey(Constants.SERVICE_PID)
                && !componentProperties("TcpTransportComponent").containsKey(Constants.SERVICE_PID));
    }

    @Test
    public void configurationChangesLeaveARunningSessionUpAndReachLaterLogins() throws Exception {
        update(INITIATOR_PID, Map.of("initiatorName", TgtdTarget.INITIATOR, "transports", "tcp",
                "loginTimeoutMillis", 10_000L));
        Support.await(BOUND, () -> "the initiator's options after configuring it: " + options(),
                () -> options().initiatorName().equals(TgtdTarget.INITIATOR) && options().transports().equals(List.of("tcp")));

        long initiatorService = serviceId(Initiator.class);
        long tcpService = serviceId(IscsiTransport.class);
        List<String> serviceEvents = new CopyOnWriteArrayList<>();
        // Properties may change (SCR publishes the new configuration on the Initiator service); the
        // services must not go.
        ServiceListener listener = e -> {
            if (e.getType() == ServiceEvent.UNREGISTERING || e.getType() == ServiceEvent.REGISTERED) {
                serviceEvents.add((e.getType() == ServiceEvent.UNREGISTERING ? "UNREGISTERING " : "REGISTERED ")
                        + String.join(",", (String[]) e.getServiceReference().getProperty(Constants.OBJECTCLASS)));
            }
        };
        context.addServiceListener(listener, "(|(objectClass=" + Initiator.class.getName() + ")(objectClass="
                + IscsiTransport.class.getName() + "))");

        ExecutorService loadThread = Executors.newSingleThreadExecutor();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger rounds = new AtomicInteger();
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES); Arena arena = Arena.ofShared();
             Session session = initiator.login(initiator.options().portal(t.tgtd.host(), t.tgtd.port())
                     .targetName(TgtdTarget.TARGET).build())) {
            BlockDevice lun = session.open(1);
            // A continuous write-and-verify load: each round writes a new pattern with every command in
            // flight at once and reads it back; a failed or wrong round ends the load with its error.
            Future<Long> load = loadThread.submit(() -> {
                long seed = 0;
                while (!stop.get()) {
                    seed++;
                    Support.writeReadBack(lun, arena, (seed % 8) * ROUND_BYTES, ROUND_BYTES, CHUNK, seed);
                    rounds.incrementAndGet();
                }
                return seed;
            });
            Support.await(BOUND, () -> "load rounds before the change: " + rounds.get(), () -> rounds.get() >= 2);

            update(INITIATOR_PID, Map.of("initiatorName", TgtdTarget.INITIATOR, "transports", "tcp",
                    "loginTimeoutMillis", 10_000L, "replacementTimeoutMillis", 30_000L, "nopIntervalMillis", 1_000L));
            update(TCP_PID, Map.of("connectTimeoutMillis", 5_000L, "releaseTimeoutMillis", 8_000L));
            Support.await(BOUND, () -> "the initiator's options after the change: " + options(),
                    () -> options().replacementTimeout().equals(Duration.ofSeconds(30))
                            && options().nopInterval().equals(Duration.ofSeconds(1)));
            Support.await(BOUND, () -> "SCR's view of the TCP component: " + componentProperties("TcpTransportComponent"),
                    () -> Long.valueOf(5_000L).equals(componentProperties("TcpTransportComponent").get("connectTimeoutMillis")));

            int atChange = rounds.get();
            Support.await(BOUND, () -> "load rounds after the change: " + rounds.get(), () -> rounds.get() >= atChange + 3);
            stop.set(true);
            long lastSeed = load.get(BOUND.toSeconds(), TimeUnit.SECONDS);

            assertTrue("the session is still logged in", session.isOpen());
            assertEquals("the session's transport", "tcp", session.transport());
            assertEquals("service events while reconfiguring (none: both components changed in place)", List.of(),
                    serviceEvents);
            assertEquals("the Initiator service is the one registered before", initiatorService, serviceId(Initiator.class));
            assertEquals("the TCP transport service is the one registered before", tcpService, serviceId(IscsiTransport.class));
            // Every round's data was verified as it went; the last one must still be on the LUN.
            Support.assertLunHolds(lun, arena, (lastSeed % 8) * ROUND_BYTES, Support.pattern(arena, ROUND_BYTES, lastSeed), CHUNK);

            // A later login starts from the new values and works.
            try (Session later = initiator.login(initiator.options().portal(t.tgtd.host(), t.tgtd.port())
                    .targetName(TgtdTarget.TARGET).build())) {
                assertTrue(later.ping() > 0);
            }
        } finally {
            stop.set(true);
            loadThread.shutdownNow();
            assertTrue("the load thread ended", loadThread.awaitTermination(BOUND.toSeconds(), TimeUnit.SECONDS));
            context.removeServiceListener(listener);
        }
    }

    @Test
    public void aBadValueIsRefusedAndTheCurrentSettingsStay() throws Exception {
        update(INITIATOR_PID, Map.of("loginTimeoutMillis", 7_000L));
        Support.await(BOUND, () -> "the initiator's options: " + options(),
                () -> options().loginTimeout().equals(Duration.ofSeconds(7)));
        long initiatorService = serviceId(Initiator.class);

        update(INITIATOR_PID, Map.of("loginTimeoutMillis", -5L));
        Support.await(BOUND, () -> "SCR's view of the initiator: " + componentProperties("InitiatorComponent"),
                () -> Long.valueOf(-5L).equals(componentProperties("InitiatorComponent").get("loginTimeoutMillis")));
        Thread.sleep(200); // SCR records the properties just before it calls @Modified
        assertEquals("the login timeout after a negative one was configured", Duration.ofSeconds(7), options().loginTimeout());
        assertEquals("the Initiator service is the one registered before", initiatorService, serviceId(Initiator.class));
    }

    private SessionOptions options() {
        return initiator.options().portal("127.0.0.1", 3260).build();
    }

    private void update(String pid, Map<String, Object> properties) throws Exception {
        Configuration c = configurationAdmin.getConfiguration(pid, "?");
        c.update(new Hashtable<>(properties));
    }

    private long serviceId(Class<?> type) {
        ServiceReference<?> ref = context.getServiceReference(type);
        assertNotNull("a " + type.getSimpleName() + " service is registered", ref);
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    /** The properties SCR holds for the one configuration of the Ostia component whose class name ends so. */
    private Map<String, Object> componentProperties(String simpleName) {
        for (Bundle b : context.getBundles()) {
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
                if (d.implementationClass.endsWith("." + simpleName)) {
                    for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                        return c.properties;
                    }
                }
            }
        }
        return Map.of();
    }
}
