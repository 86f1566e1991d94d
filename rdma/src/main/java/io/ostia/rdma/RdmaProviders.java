package io.ostia.rdma;

import io.ostia.rdma.internal.ffm.NativeProvider;
import io.ostia.rdma.loopback.LoopbackFabric;

import java.util.List;
import java.util.Objects;

/** Finds providers by name. */
public final class RdmaProviders {
    public static final String NATIVE = "native";
    public static final String LOOPBACK = "loopback";

    private RdmaProviders() {
    }

    /** The provider names, in order of preference. */
    public static List<String> names() {
        return List.of(NATIVE, LOOPBACK);
    }

    /**
     * The provider with this name: {@code native} (one per JVM) or {@code loopback} (the JVM's
     * shared fabric, see {@link LoopbackFabric#shared()}). It may be unavailable; check
     * {@link RdmaProvider#isAvailable()}.
     *
     * @throws IllegalArgumentException for any other name
     */
    public static RdmaProvider byName(String name) {
        Objects.requireNonNull(name, "name");
        return switch (name) {
            case NATIVE -> NativeProvider.instance();
            case LOOPBACK -> LoopbackFabric.shared();
            default -> throw new IllegalArgumentException(
                    "unknown RDMA provider '" + name + "'; known providers: " + names());
        };
    }
}
