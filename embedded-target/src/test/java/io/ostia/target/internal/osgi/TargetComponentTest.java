package io.ostia.target.internal.osgi;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.net.ConnectException;
import java.net.Socket;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DS component as SCR drives it: constructor activation with a typed config, then deactivation. */
class TargetComponentTest {

    /** A Config as SCR would make it: the given properties, annotation defaults for the rest. */
    static TargetComponent.Config config(Map<String, Object> properties) {
        return (TargetComponent.Config) Proxy.newProxyInstance(TargetComponent.Config.class.getClassLoader(),
                new Class<?>[] {TargetComponent.Config.class}, (proxy, method, args) -> {
                    if (properties.containsKey(method.getName())) {
                        return properties.get(method.getName());
                    }
                    Object value = method.getDefaultValue();
                    if (value == null) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    return value;
                });
    }

    @Test
    void activationServesTheConfiguredLunAndDeactivationUndoesIt() throws Exception {
        TargetComponent component = new TargetComponent(config(Map.of("port", 0, "lunSizeMiB", 2L,
                "targetName", "iqn.2026-01.io.ostia:component", "chapUser", "user", "chapSecret", "component-secret")));
        int port = component.target().port();
        try (Socket s = new Socket("127.0.0.1", port)) {
            assertTrue(s.isConnected());
        }
        component.deactivate();
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
        assertEquals(0, component.target().sessionCount());
    }

    @Test
    void aBadConfigurationFailsActivationWithItsReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TargetComponent(config(Map.of("port", 0, "blockSize", 1024))));
        assertTrue(e.getMessage().contains("512 or 4096"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TargetComponent(config(Map.of("port", 0, "writeShare", 1.5))));
        assertEquals("write share must be a fraction of the write budget in (0, 1], not 1.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TargetComponent(config(Map.of("port", 0, "writeBudgetMiB", 0L))));
        assertTrue(e.getMessage().startsWith("write budget must be at least 4096 bytes"), e.getMessage());
    }
}
