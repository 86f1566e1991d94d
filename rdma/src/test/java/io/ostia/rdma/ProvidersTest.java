package io.ostia.rdma;

import io.ostia.rdma.loopback.LoopbackFabric;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProvidersTest {
    @Test
    void lookupByName() {
        assertEquals("native", RdmaProviders.byName("native").name());
        assertSame(LoopbackFabric.shared(), RdmaProviders.byName("loopback"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RdmaProviders.byName("rxe"));
        assertTrue(e.getMessage().contains("'rxe'") && e.getMessage().contains("loopback"), e.getMessage());
    }

    @Test
    void loopbackIsAlwaysAvailable() {
        RdmaProvider loopback = RdmaProviders.byName("loopback");
        assertTrue(loopback.isAvailable());
        assertNull(loopback.unavailabilityCause());
        assertTrue(loopback.deviceNames().contains(LoopbackFabric.DEFAULT_DEVICE));
    }

    /** Without a device the native provider says so plainly, and only its own use fails. */
    @Test
    void nativeWithoutDeviceExplainsWhyAndFailsCleanly() {
        boolean hasDevice = Files.isDirectory(Path.of("/dev/infiniband"));
        org.junit.jupiter.api.Assumptions.assumeFalse(hasDevice, "this machine has /dev/infiniband");
        assertTrue(!RdmaAvailability.isAvailable());
        Throwable cause = RdmaAvailability.unavailabilityCause();
        assertTrue(cause.getMessage().startsWith("no RDMA device") || cause.getMessage().contains("is missing"),
                cause.getMessage());
        RdmaProvider nativeProvider = RdmaProviders.byName("native");
        RdmaException e = assertThrows(RdmaException.class, () -> nativeProvider.createEventChannel(event -> { }));
        assertTrue(e.getMessage().contains("'native' is unavailable: " + cause.getMessage()), e.getMessage());
        assertSame(cause, e.getCause());
        assertThrows(RdmaException.class, RdmaAvailability::ensureAvailability);
        assertThrows(RdmaException.class, nativeProvider::deviceNames);
        assertEquals(java.util.List.of(), nativeProvider.openObjects());
    }
}
