package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.transport.lifecycle.TransportLifecycle;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar as its users see it: found by ServiceLoader, and as a module (bnd's
 * module-info) that provides the transport and resolves with the api and lifecycle modules
 * alone, without any OSGi jar.
 */
class TcpTransportModuleIT {

    /**
     * Failsafe may run these tests inside the transport's own module (patched in), which
     * declares no {@code uses}; a consumer module declares its own, as this does at run time.
     */
    private static void usesService(Class<?> service) {
        TcpTransportModuleIT.class.getModule().addUses(service);
    }

    @Test
    void serviceLoaderFindsTheTransport() {
        usesService(IscsiTransport.class);
        List<IscsiTransport> found = ServiceLoader.load(IscsiTransport.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        assertEquals(1, found.size(), found::toString);
        try (IscsiTransport transport = found.getFirst()) {
            assertEquals("tcp", transport.name());
        }
    }

    @Test
    void theModuleProvidesTheTransportAndNeedsOnlyTheApiAndTheLifecycleAtRunTime() throws Exception {
        Path jar = jarOf(TcpTransport.class);
        Path api = jarOf(IscsiTransport.class);
        Path lifecycle = jarOf(TransportLifecycle.class);
        assertTrue(jar.toString().endsWith(".jar"), () -> "failsafe tests the packaged jar, not " + jar);
        ModuleFinder finder = ModuleFinder.of(jar, api, lifecycle);
        ModuleDescriptor descriptor = finder.find("io.ostia.transport.tcp").orElseThrow().descriptor();
        assertTrue(descriptor.provides().stream().anyMatch(provides -> provides.service()
                .equals(IscsiTransport.class.getName())), () -> "provides: " + descriptor.provides());
        Configuration configuration = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(),
                Set.of("io.ostia.transport.tcp"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(configuration,
                ClassLoader.getPlatformClassLoader());
        Class<?> service = layer.findLoader("io.ostia.api").loadClass(IscsiTransport.class.getName());
        usesService(service);
        List<?> providers = ServiceLoader.load(layer, service).stream().map(ServiceLoader.Provider::get).toList();
        assertEquals(1, providers.size(), providers::toString);
        Object transport = providers.getFirst();
        assertEquals("tcp", service.getMethod("name").invoke(transport));
        service.getMethod("close").invoke(transport);
    }

    private static Path jarOf(Class<?> type) throws Exception {
        Path path = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(path), path::toString);
        return path;
    }
}
