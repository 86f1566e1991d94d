package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
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
 * The component is module init and exit in a real OSGi framework: it registers the transport
 * only when its provider has a device, and deactivation keeps the leaving order with the
 * unregistration last. Also the module-path entry: the constructor ServiceLoader calls does not
 * fail without a device.
 */
class IserTransportComponentTest {

    @TempDir
    Path storage;
    private Felix framework;
    private BundleContext context;

    @BeforeEach
    void startFramework() throws Exception {
        framework = new Felix(Map.of(Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "io.ostia.api.spi;version=0.2.0"));
        framework.start();
        context = framework.getBundleContext();
    }

    @AfterEach
    void stopFramework() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    static IserTransportComponent.Config config(String provider) {
        return new IserTransportComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return IserTransportComponent.Config.class;
            }

            @Override
            public String provider() {
                return provider;
            }

            @Override
            public long releaseTimeoutMillis() {
                return 300;
            }

            @Override
            public long connectTimeoutMillis() {
                return 2_000;
            }

            @Override
            public int maxQueueDepth() {
                return 32;
            }

            @Override
            public int receiveDataSegmentLength() {
                return 8192;
            }

            @Override
            public int maxUnexpectedPdus() {
                return 4;
            }
        };
    }

    private static boolean nativeDevicePresent() {
        RdmaProvider provider = RdmaProviders.byName(RdmaProviders.NATIVE);
        return provider.isAvailable() && !provider.deviceNames().isEmpty();
    }

    @Test
    void withoutADeviceNothingIsRegistered() {
        assumeFalse(nativeDevicePresent(), "this machine has a native RDMA device: the no-device case cannot be shown");
        IserTransportComponent component = new IserTransportComponent(context, config(RdmaProviders.NATIVE));
        assertNull(context.getServiceReference(IscsiTransport.class), "nothing registered without a device");
        component.deactivate();
    }

    @Test
    void aConfigurationThatNamesAWorkingProviderRegistersWhatActivationCouldNot() {
        assumeFalse(nativeDevicePresent(), "this machine has a native RDMA device: the no-device case cannot be shown");
        IserTransportComponent component = new IserTransportComponent(context, config(RdmaProviders.NATIVE));
        assertNull(context.getServiceReference(IscsiTransport.class), "nothing registered without a device");
        component.modified(config(RdmaProviders.LOOPBACK));
        ServiceReference<IscsiTransport> reference = context.getServiceReference(IscsiTransport.class);
        assertNotNull(reference, "registered once the configuration names the loopback fabric");
        assertEquals("iser", reference.getProperty(IscsiTransport.NAME_PROPERTY));
        component.deactivate();
        assertNull(context.getServiceReference(IscsiTransport.class), "unregistered at deactivation");
    }

    @Test
    void withTheLoopbackProviderItRegistersAndLeavesInOrder() throws Exception {
        RdmaProvider fabric = RdmaProviders.byName(RdmaProviders.LOOPBACK);
        List<String> objectsBefore = fabric.openObjects();
        IserTransportComponent component = new IserTransportComponent(context, config(RdmaProviders.LOOPBACK));
        List<String> events = new CopyOnWriteArrayList<>();
        context.addServiceListener(event -> {
            if (event.getType() == ServiceEvent.UNREGISTERING) {
                events.add("unregistering");
            }
        }, "(" + IscsiTransport.NAME_PROPERTY + "=iser)");
        ServiceReference<IscsiTransport> reference = context.getServiceReference(IscsiTransport.class);
        assertNotNull(reference, "registered at activation");
        assertEquals("iser", reference.getProperty(IscsiTransport.NAME_PROPERTY));
        IscsiTransport transport = context.getService(reference);
        try (IserTestPeer peer = new IserTestPeer(fabric)) {
            TransportEndpoint endpoint = transport.connect(peer.address());
            peer.acceptNext();
            assertTrue(endpoint.poll(Duration.ofSeconds(5)));
            RecordingOwner owner = new RecordingOwner(events);
            TransportConnection connection = transport.createConnection(owner, 16);
            connection.bind(endpoint, true);
            context.ungetService(reference);

            component.deactivate();

            assertEquals(List.of("leaving", "failed", "unregistering"), events, "told, force-released, unregistered last");
            assertNull(context.getServiceReference(IscsiTransport.class));
            connection.stop(StopMode.RECOVER);
            connection.destroy();
        }
        assertEquals(objectsBefore, fabric.openObjects(), "deactivation freed every RDMA object");
    }

    /** What ServiceLoader calls on the module path (the jar's META-INF/services names this class). */
    @Test
    void theServiceLoaderConstructorDoesNotFailWithoutADeviceButEveryConnectSaysWhy() {
        assumeFalse(nativeDevicePresent(), "this machine has a native RDMA device: the no-device case cannot be shown");
        IserTransport transport = new IserTransport();
        try {
            assertNotNull(transport.unavailabilityCause());
            TransportException refused = assertThrows(TransportException.class,
                    () -> transport.connect(new InetSocketAddress("127.0.0.1", 3260)));
            assertTrue(refused.getMessage().contains("native"), refused.getMessage());
        } finally {
            transport.close();
        }
    }
}
