package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A logical unit's pending unit attention conditions, per I_T nexus (SAM-5 §5.14): raised by
 * resets and by reservation changes, reported one at a time to the nexus's next command. A
 * nexus keeps at most {@value #MAX_PER_NEXUS} distinct conditions, so no peer can grow it
 * without bound. Thread-safe.
 */
final class UnitAttentions {
    private static final int MAX_PER_NEXUS = 16;

    private final Map<Nexus, Deque<AdditionalSense>> pending = new HashMap<>();
    /** The I_T nexuses that sent a command and have not ended: the "others" of {@link #raiseForOthers}. */
    private final Set<Nexus> known = ConcurrentHashMap.newKeySet();
    /** Read without the lock on every command: the common case is that nothing is pending. */
    private volatile boolean any;

    synchronized void raise(Nexus nexus, AdditionalSense condition) {
        Deque<AdditionalSense> queue = pending.computeIfAbsent(nexus, n -> new ArrayDeque<>());
        if (!queue.contains(condition) && queue.size() < MAX_PER_NEXUS) {
            queue.add(condition);
        }
        any = true;
    }

    void raise(Iterable<Nexus> nexuses, AdditionalSense condition) {
        for (Nexus nexus : nexuses) {
            raise(nexus, condition);
        }
    }

    /** Notes that {@code nexus} talks to the unit (until {@link #clear}). */
    void seen(Nexus nexus) {
        if (nexus != null) {
            known.add(nexus);
        }
    }

    /** Raises {@code condition} for every known I_T nexus except {@code origin}. */
    void raiseForOthers(Nexus origin, AdditionalSense condition) {
        for (Nexus nexus : known) {
            if (!nexus.equals(origin)) {
                raise(nexus, condition);
            }
        }
    }

    /** The oldest condition pending for {@code nexus}, now reported, or null. */
    AdditionalSense take(Nexus nexus) {
        if (!any) {
            return null;
        }
        synchronized (this) {
            Deque<AdditionalSense> queue = pending.get(nexus);
            AdditionalSense condition = queue == null ? null : queue.poll();
            if (queue != null && queue.isEmpty()) {
                pending.remove(nexus);
                any = !pending.isEmpty();
            }
            return condition;
        }
    }

    /** The nexus ended: its conditions go with it. */
    synchronized void clear(Nexus nexus) {
        known.remove(nexus);
        pending.remove(nexus);
        any = !pending.isEmpty();
    }
}
