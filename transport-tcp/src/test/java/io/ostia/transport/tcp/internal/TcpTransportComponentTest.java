package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import java.lang.annotation.Annotation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.framework.Felix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceReference;

/**
 * The component's own half of the lifecycle in a real OSGi framework: it registers the
 * transport itself, with its name property, and deactivation keeps the leaving order with the
 * unregistration last.
 */
class TcpTransportComponentTest {

    @TempDir
    Path storage;
    private Felix framework;
    private BundleContext context;

    @BeforeEach
    void startFramework() throws Exception {
        framework = new Felix(Map.of(Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "io.ostia.api.spi;version=0.1.0"));
        framework.start();
        context = framework.getBundleContext();
    }

    @AfterEach
    void stopFramework() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    private static TcpTransportComponent.Config config(long releaseTimeoutMillis) {
        return new TcpTransportComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return TcpTransportComponent.Config.class;
            }

            @Override
            public long releaseTimeoutMillis() {
                return releaseTimeoutMillis;
            }

            @Override
            public long connectTimeoutMillis() {
                return 2_000;
            }

            @Override
            public long progressTimeoutMillis() {
                return 5_000;
            }

            @Override
            public int sendBufferSize() {
                return 256 * 1024;
            }

            @Override
            public int receiveBufferSize() {
                return 256 * 1024;
            }
        };
    }

    @Test
    void activationRegistersTheTransportNamedTcp() throws Exception {
        TcpTransportComponent component = new TcpTransportComponent(context, config(1_000));
        ServiceReference<IscsiTransport> reference = context.getServiceReference(IscsiTransport.class);
        assertNotNull(reference, "registered at activation");
        assertEquals("tcp", reference.getProperty(IscsiTransport.NAME_PROPERTY));
        IscsiTransport transport = context.getService(reference);
        assertEquals("tcp", transport.name());
        context.ungetService(reference);
        component.deactivate();
        assertNull(context.getServiceReference(IscsiTransport.class), "unregistered at deactivation");
    }

    @Test
    void deactivationTellsOwnersAndForceReleasesBeforeUnregistering() throws Exception {
        TcpTransportComponent component = new TcpTransportComponent(context, config(300));
        List<String> events = new CopyOnWriteArrayList<>();
        context.addServiceListener(event -> {
            if (event.getType() == ServiceEvent.UNREGISTERING) {
                events.add("unregistering");
            }
        }, "(" + IscsiTransport.NAME_PROPERTY + "=tcp)");
        ServiceReference<IscsiTransport> reference = context.getServiceReference(IscsiTransport.class);
        IscsiTransport transport = context.getService(reference);
        int threadsBefore = Leaks.receiveThreads();
        try (FakeTarget target = new FakeTarget()) {
            TransportEndpoint endpoint = transport.connect(target.address());
            target.accept();
            assertTrue(endpoint.poll(Duration.ofSeconds(5)));
            RecordingOwner owner = new RecordingOwner();
            owner.onLeaving = leaving -> events.add("leaving");
            owner.onFailure = cause -> events.add("force-released");
            TransportConnection connection = transport.createConnection(owner, 32);
            connection.bind(endpoint, true);
            context.ungetService(reference);

            component.deactivate();

            assertEquals(List.of("leaving", "force-released", "unregistering"), events);
            assertEquals(threadsBefore, Leaks.receiveThreads(), "receive thread ended before unregistration");
            connection.stop(StopMode.RECOVER);
            connection.destroy();
        }
    }
}
