package io.ostia.transport.iser.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.transport.lifecycle.TransportLifecycle;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.reflect.InvocationTargetException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar as JPMS users see it: a module (bnd's module-info) that provides the iSER
 * transport and resolves with the api, lifecycle and rdma modules alone, without any OSGi jar;
 * ServiceLoader finds it on the module path, and without an RDMA device its connects say why.
 */
class IserTransportModuleIT {

    /**
     * Failsafe may run these tests inside the transport's own module (patched in), which
     * declares no {@code uses}; a consumer module declares its own, as this does at run time.
     */
    private static void usesService(Class<?> service) {
        IserTransportModuleIT.class.getModule().addUses(service);
    }

    private static boolean nativeDevicePresent() {
        RdmaProvider provider = RdmaProviders.byName(RdmaProviders.NATIVE);
        return provider.isAvailable() && !provider.deviceNames().isEmpty();
    }

    @Test
    void theModuleProvidesTheTransportAndNeedsOnlyApiLifecycleAndRdmaAtRunTime() throws Exception {
        Path jar = jarOf(IserTransport.class);
        assertTrue(jar.toString().endsWith(".jar"), () -> "failsafe tests the packaged jar, not " + jar);
        ModuleFinder finder = ModuleFinder.of(jar, jarOf(IscsiTransport.class), jarOf(TransportLifecycle.class),
                jarOf(RdmaProvider.class));
        ModuleDescriptor descriptor = finder.find("io.ostia.transport.iser").orElseThrow().descriptor();
        assertTrue(descriptor.provides().stream().anyMatch(provides -> provides.service()
                .equals(IscsiTransport.class.getName())), () -> "provides: " + descriptor.provides());
        Configuration configuration = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("io.ostia.transport.iser"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(configuration,
                ClassLoader.getPlatformClassLoader());
        assertEquals(Set.of("io.ostia.api", "io.ostia.rdma", "io.ostia.transport.lifecycle", "io.ostia.transport.iser"),
                layer.modules().stream().map(Module::getName).collect(java.util.stream.Collectors.toSet()),
                "resolved from these four jars, no OSGi jar among them");
        Class<?> service = layer.findLoader("io.ostia.api").loadClass(IscsiTransport.class.getName());
        usesService(service);
        List<?> providers = ServiceLoader.load(layer, service).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.getClass().getModule().getLayer() == layer).toList();
        assertEquals(1, providers.size(), providers::toString);
        Object transport = providers.getFirst();
        try {
            assertEquals("iser", service.getMethod("name").invoke(transport));
            if (!nativeDevicePresent()) {
                InvocationTargetException refused = org.junit.jupiter.api.Assertions.assertThrows(
                        InvocationTargetException.class, () -> service.getMethod("connect", InetSocketAddress.class)
                                .invoke(transport, new InetSocketAddress("127.0.0.1", 3260)));
                String why = refused.getCause().getMessage();
                assertEquals(TransportException.class.getName(), refused.getCause().getClass().getName());
                assertTrue(why.contains("RDMA") || why.contains("libibverbs"), why);
            }
        } finally {
            service.getMethod("close").invoke(transport);
        }
    }

    @Test
    void serviceLoaderFindsTheTransport() {
        usesService(IscsiTransport.class);
        List<IscsiTransport> found = ServiceLoader.load(IscsiTransport.class).stream()
                .map(ServiceLoader.Provider::get).filter(t -> t.name().equals("iser")).toList();
        assertEquals(1, found.size(), found::toString);
        found.getFirst().close();
    }

    private static Path jarOf(Class<?> type) throws Exception {
        Path path = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(path), path::toString);
        return path;
    }
}
