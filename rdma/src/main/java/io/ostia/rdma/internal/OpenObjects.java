package io.ostia.rdma.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Every open object of one provider, for leak checks and for "still open" messages. */
public final class OpenObjects {
    private final Map<Object, Boolean> open = new ConcurrentHashMap<>();
    private final AtomicLong serial = new AtomicLong();

    /** A number for naming a new object. */
    public long nextSerial() {
        return serial.incrementAndGet();
    }

    public void opened(Object object) {
        open.put(object, Boolean.TRUE);
    }

    public void closed(Object object) {
        open.remove(object);
    }

    /** Descriptions ({@code toString()}) of the open objects. */
    public List<String> describe() {
        List<String> names = new ArrayList<>();
        for (Object o : open.keySet()) {
            names.add(o.toString());
        }
        names.sort(null);
        return names;
    }

    /**
     * Throws if any of {@code children} is open: closing {@code parent} would orphan it.
     */
    public static void requireNoneOpen(Object parent, Collection<?> children) {
        if (!children.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (Object c : children) {
                names.add(c.toString());
            }
            throw new IllegalStateException("cannot close " + parent + ": still open: " + String.join(", ", names));
        }
    }
}
