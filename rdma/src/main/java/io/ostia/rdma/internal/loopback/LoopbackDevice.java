package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CompletionQueue;
import io.ostia.rdma.DeviceLimits;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.ScatterGatherList;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

final class LoopbackDevice implements RdmaDevice {
    /** Limits of a small HCA; the fabric itself has none but a queue's capacity. */
    static final DeviceLimits LIMITS = new DeviceLimits(16384, ScatterGatherList.MAX_ENTRIES, 65536, Long.MAX_VALUE);

    final Fabric fabric;
    final List<InetAddress> addresses;
    /** Ids bound to this device, for device removal. */
    final Set<LoopbackCmId> ids = new HashSet<>();
    private final String name;
    boolean removed;

    LoopbackDevice(Fabric fabric, String name, List<InetAddress> addresses) {
        this.fabric = fabric;
        this.name = name;
        this.addresses = addresses;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceLimits limits() {
        return LIMITS;
    }

    @Override
    public boolean isRemoved() {
        return fabric.lockedTest(() -> removed);
    }

    @Override
    public ProtectionDomain allocateProtectionDomain() {
        fabric.lock.lock();
        try {
            requirePresent();
            return new LoopbackProtectionDomain(this);
        } finally {
            fabric.lock.unlock();
        }
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("completion queue capacity must be at least 1, was " + capacity);
        }
        fabric.lock.lock();
        try {
            requirePresent();
            return new LoopbackCompletionQueue(this, capacity);
        } finally {
            fabric.lock.unlock();
        }
    }

    void requirePresent() {
        fabric.requireOpen();
        if (removed) {
            throw new RdmaException("loopback device " + name + " was removed");
        }
    }

    /** The device's address of the same family as {@code like}, else its first address. */
    InetAddress addressLike(InetAddress like) {
        for (InetAddress a : addresses) {
            if (a.getClass() == like.getClass()) {
                return a;
            }
        }
        return addresses.getFirst();
    }

    @Override
    public String toString() {
        return "loopback device " + name;
    }
}
