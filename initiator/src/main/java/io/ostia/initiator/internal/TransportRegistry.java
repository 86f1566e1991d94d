package io.ostia.initiator.internal;

import io.ostia.api.spi.IscsiTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The transports the initiator can use now, in arrival order. Written by the DS reference's
 * bind/unbind (or once, from ServiceLoader); read by every login.
 */
final class TransportRegistry {
    private final CopyOnWriteArrayList<IscsiTransport> transports = new CopyOnWriteArrayList<>();

    void add(IscsiTransport transport) {
        transports.addIfAbsent(transport);
    }

    void remove(IscsiTransport transport) {
        transports.remove(transport);
    }

    /** The transport registered under {@code name}; the newest wins if a bundle update overlaps. */
    Optional<IscsiTransport> find(String name) {
        List<IscsiTransport> snapshot = List.copyOf(transports);
        for (int i = snapshot.size() - 1; i >= 0; i--) {
            if (snapshot.get(i).name().equals(name)) {
                return Optional.of(snapshot.get(i));
            }
        }
        return Optional.empty();
    }

    List<String> names() {
        List<String> names = new ArrayList<>();
        for (IscsiTransport t : transports) {
            if (!names.contains(t.name())) {
                names.add(t.name());
            }
        }
        return names;
    }
}
