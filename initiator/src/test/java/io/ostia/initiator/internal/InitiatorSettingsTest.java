package io.ostia.initiator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.BlockDevice;
import io.ostia.api.FailbackPolicy;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.InitiatorSettings;
import io.ostia.initiator.Initiators;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.tcp.TcpTransports;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The initiator's settings: plain Java, the component's configuration, and changing them under a live session. */
class InitiatorSettingsTest {

    private static final String TARGET = "iqn.2026-11.io.ostia.test:settings";

    @Test
    void unsetValuesKeepTheSessionDefaults() {
        SessionOptions plain = SessionOptions.builder().portal("127.0.0.1", 3260).build();
        SessionOptions viaSettings = InitiatorSettings.defaults().applyTo(SessionOptions.builder().portal("127.0.0.1", 3260))
                .build();
        assertEquals(plain.toString(), viaSettings.toString());
        assertEquals(plain.loginTimeout(), viaSettings.loginTimeout());
        assertEquals(plain.replacementTimeout(), viaSettings.replacementTimeout());
        assertEquals(plain.failback(), viaSettings.failback());
    }

    @Test
    void setValuesReachTheOptions() {
        InitiatorSettings settings = InitiatorSettings.builder().initiatorName("iqn.2026-12.example:host1")
                .transports(" iser , tcp").loginTimeout(Duration.ofSeconds(3)).nopInterval(Duration.ZERO)
                .nopTimeout(Duration.ofSeconds(2)).replacementTimeout(Duration.ofSeconds(7)).failback(FailbackPolicy.PREFERRED).build();
        SessionOptions o = settings.applyTo(SessionOptions.builder().portal("127.0.0.1", 3260)).build();
        assertEquals("iqn.2026-12.example:host1", o.initiatorName());
        assertEquals(List.of("iser", "tcp"), o.transports());
        assertEquals(Duration.ofSeconds(3), o.loginTimeout());
        assertEquals(Duration.ZERO, o.nopInterval());
        assertEquals(Duration.ofSeconds(2), o.nopTimeout());
        assertEquals(Duration.ofSeconds(7), o.replacementTimeout());
        assertEquals(FailbackPolicy.PREFERRED, o.failback());
    }

    @Test
    void badValuesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> InitiatorSettings.builder().transports("iser,,tcp"));
        assertTrue(e.getMessage().contains("empty name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InitiatorSettings.builder().loginTimeout(Duration.ofSeconds(-1)).build());
        assertTrue(e.getMessage().contains("login timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InitiatorSettings.builder().initiatorName(" ").build());
        assertTrue(e.getMessage().contains("initiator name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InitiatorSettings.builder().replacementTimeout(Duration.ofMillis(-5)).build());
        assertTrue(e.getMessage().contains("replacement timeout"), e.getMessage());
    }

    /** The metatype defaults are the session defaults, except the preference, which puts iSER first in a container. */
    @Test
    void componentDefaultsAreTheSessionDefaults() {
        InitiatorSettings fromDefaults = InitiatorComponent.settings(config(Map.of()));
        SessionOptions expected = SessionOptions.builder().portal("127.0.0.1", 3260).transports("iser", "tcp").build();
        SessionOptions actual = fromDefaults.applyTo(SessionOptions.builder().portal("127.0.0.1", 3260)).build();
        assertEquals(expected.toString(), actual.toString());
        assertEquals(expected.loginTimeout(), actual.loginTimeout());
        assertEquals(expected.nopInterval(), actual.nopInterval());
        assertEquals(expected.nopTimeout(), actual.nopTimeout());
        assertEquals(expected.replacementTimeout(), actual.replacementTimeout());
        assertEquals(expected.failback(), actual.failback());
    }

    @Test
    void aSessionKeepsRunningWhileTheComponentIsReconfigured() throws Exception {
        IscsiTransport tcp = TcpTransports.create();
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0).logoutGrace(Duration.ofMillis(200))
                     .target(TARGET, t -> t.ramLun(1 << 20)).build().start();
             ClosableInitiator initiator = Initiators.create(List.of(tcp),
                     InitiatorComponent.settings(config(Map.of("transports", "tcp"))));
             Arena arena = Arena.ofShared()) {
            IscsiInitiator live = (IscsiInitiator) initiator;
            Session first = live.login(live.options().portal("127.0.0.1", target.port()).targetName(TARGET).build());
            BlockDevice lun = first.open(0);
            MemorySegment block = arena.allocate(lun.blockSize(), 4096);
            block.fill((byte) 0x5a);
            var pending = lun.writeAsync(0, block);

            // What the component's @Modified does with a new configuration (the OSGi path is in itest).
            live.reconfigure(InitiatorComponent.settings(config(Map.of("transports", "tcp",
                    "initiatorName", "iqn.2026-12.example:renamed", "replacementTimeoutMillis", 9_000L))));

            pending.get(10, TimeUnit.SECONDS);
            assertTrue(first.isOpen(), "the running session stays logged in");
            assertTrue(first.ping() > 0);
            assertEquals(SessionOptions.DEFAULT_INITIATOR_PREFIX, ((IscsiSession) first).options.initiatorName(),
                    "a running session keeps the name its I_T nexus has");
            try (Session second = live.login(live.options().portal("127.0.0.1", target.port()).targetName(TARGET).build())) {
                SessionOptions o = ((IscsiSession) second).options;
                assertEquals("iqn.2026-12.example:renamed", o.initiatorName());
                assertEquals(Duration.ofSeconds(9), o.replacementTimeout());
                MemorySegment read = arena.allocate(lun.blockSize(), 4096);
                second.open(0).read(0, read);
                assertEquals(0x5a, read.get(ValueLayout.JAVA_BYTE, 0), "the first session's write is on the LUN");
            }
            first.close();
        } finally {
            tcp.close();
        }
    }

    /**
     * Options a caller built without {@code initiator.options()} (SessionOptions.builder(), a URL,
     * the command line's) get the settings for what they left unset; what they set wins.
     */
    @Test
    void settingsReachLoginsWithCallerBuiltOptionsAndExplicitValuesWin() throws Exception {
        IscsiTransport tcp = TcpTransports.create();
        InitiatorSettings settings = InitiatorSettings.builder().initiatorName("iqn.2026-12.example:configured")
                .replacementTimeout(Duration.ofSeconds(11)).nopInterval(Duration.ofSeconds(3))
                .failback(FailbackPolicy.PREFERRED).build();
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0).logoutGrace(Duration.ofMillis(200))
                     .target(TARGET, t -> t.ramLun(1 << 20)).build().start();
             ClosableInitiator initiator = Initiators.create(List.of(tcp), settings)) {
            SessionOptions.Builder plain = SessionOptions.builder().portal("127.0.0.1", target.port()).targetName(TARGET);
            try (Session s = initiator.login(plain.build())) {
                SessionOptions o = ((IscsiSession) s).options;
                assertEquals("iqn.2026-12.example:configured", o.initiatorName(), "the name it logged in with");
                assertEquals(Duration.ofSeconds(11), o.replacementTimeout());
                assertEquals(Duration.ofSeconds(3), o.nopInterval());
                assertEquals(FailbackPolicy.PREFERRED, o.failback());
            }
            try (Session s = initiator.login(plain.initiatorName("iqn.2026-12.example:per-session")
                    .replacementTimeout(Duration.ofSeconds(5)).build())) {
                SessionOptions o = ((IscsiSession) s).options;
                assertEquals("iqn.2026-12.example:per-session", o.initiatorName(), "explicit per-session options win");
                assertEquals(Duration.ofSeconds(5), o.replacementTimeout());
                assertEquals(Duration.ofSeconds(3), o.nopInterval(), "the rest still from the settings");
            }
            // A value set explicitly to what happens to be SessionOptions' default wins as well.
            SessionOptions defaultName = plain.initiatorName(SessionOptions.DEFAULT_INITIATOR_PREFIX).build();
            assertEquals(SessionOptions.DEFAULT_INITIATOR_PREFIX, settings.fillIn(defaultName).initiatorName());
            assertEquals(1, initiator.discover(SessionOptions.builder().portal("127.0.0.1", target.port()).build()).size(),
                    "discovery goes through the same filling-in");
        } finally {
            tcp.close();
        }
    }

    /** A component configuration as SCR builds it: the given properties, annotation defaults for the rest. */
    static InitiatorComponent.Config config(Map<String, Object> properties) {
        return (InitiatorComponent.Config) Proxy.newProxyInstance(InitiatorComponent.Config.class.getClassLoader(),
                new Class<?>[] {InitiatorComponent.Config.class}, (proxy, method, args) -> {
                    if (method.getName().equals("annotationType")) {
                        return InitiatorComponent.Config.class;
                    }
                    Object value = properties.get(method.getName());
                    if (value == null) {
                        return method.getDefaultValue();
                    }
                    if (method.getReturnType().isEnum()) {
                        return Enum.valueOf(method.getReturnType().asSubclass(Enum.class), value.toString());
                    }
                    return value;
                });
    }
}
