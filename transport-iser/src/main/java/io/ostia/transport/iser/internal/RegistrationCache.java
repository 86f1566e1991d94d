package io.ostia.transport.iser.internal;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;

/**
 * Memory registrations of the session's task buffers, kept for reuse: a session reads and writes
 * the same few buffers again and again, so after the first use of each a task costs no system
 * call and no allocation (a lookup in a small array). A buffer inside a registered one reuses
 * it. Entries in use by a task in flight are never evicted; when every entry is in use the cache
 * refuses, and the task fails with a clear error.
 *
 * <p>The registration pins the buffer's memory: a caller must not free a buffer and expect a
 * later buffer at the same address to be seen (the old registration would be found). Session
 * buffers live as long as the session, which is the case this cache serves.
 */
final class RegistrationCache implements AutoCloseable {

    /** Both directions: a SCSI read is an RDMA Write into the buffer, a write an RDMA Read from it. */
    private static final Set<MemoryAccess> ACCESS = EnumSet.of(MemoryAccess.LOCAL_WRITE, MemoryAccess.REMOTE_WRITE,
            MemoryAccess.REMOTE_READ);

    private final ProtectionDomain pd;
    private final MemoryRegion[] regions;
    private final int[] users;
    /** Where eviction looks next, round-robin. */
    private int hand;
    private int registrations;

    RegistrationCache(ProtectionDomain pd, int capacity) {
        this.pd = pd;
        this.regions = new MemoryRegion[capacity];
        this.users = new int[capacity];
    }

    /**
     * The registration covering {@code buffer}, made if none does, counted as in use until
     * {@link #release}.
     *
     * @return the entry number, for {@link #region} and {@link #release}
     * @throws IllegalStateException every entry is in use by a task in flight
     */
    synchronized int acquire(MemorySegment buffer) {
        long start = buffer.address();
        long end = start + buffer.byteSize();
        int empty = -1;
        for (int i = 0; i < regions.length; i++) {
            MemoryRegion region = regions[i];
            if (region == null) {
                if (empty < 0) {
                    empty = i;
                }
            } else if (region.address() <= start && end <= region.address() + region.length()) {
                users[i]++;
                return i;
            }
        }
        int slot = empty >= 0 ? empty : evictOne(buffer);
        regions[slot] = pd.registerMemory(buffer, ACCESS);
        users[slot] = 1;
        registrations++;
        return slot;
    }

    private int evictOne(MemorySegment buffer) {
        for (int tried = 0; tried < regions.length; tried++) {
            int i = hand;
            hand = (hand + 1) % regions.length;
            if (users[i] == 0) {
                regions[i].close();
                regions[i] = null;
                return i;
            }
        }
        throw new IllegalStateException("cannot register a buffer of " + buffer.byteSize() + " bytes: all "
                + regions.length + " registrations are in use by tasks in flight");
    }

    synchronized MemoryRegion region(int entry) {
        return regions[entry];
    }

    synchronized void release(int entry) {
        users[entry]--;
    }

    /** How many registrations were made so far: the system calls the data path cost. */
    synchronized int registrations() {
        return registrations;
    }

    /** Deregisters everything; no task may still use a buffer. */
    @Override
    public synchronized void close() {
        RuntimeException failure = null;
        for (int i = 0; i < regions.length; i++) {
            if (regions[i] != null) {
                try {
                    regions[i].close();
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
                regions[i] = null;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
