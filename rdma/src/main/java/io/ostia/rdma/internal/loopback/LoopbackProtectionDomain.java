package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.MemoryAccess;
import io.ostia.rdma.MemoryRegion;
import io.ostia.rdma.ProtectionDomain;
import io.ostia.rdma.RdmaDevice;
import io.ostia.rdma.internal.MemoryRegistration;
import io.ostia.rdma.internal.OpenObjects;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

final class LoopbackProtectionDomain implements ProtectionDomain {
    final LoopbackDevice device;
    final KeyTable<LoopbackMemoryRegion> byLkey = new KeyTable<>();
    final KeyTable<LoopbackMemoryRegion> byRkey = new KeyTable<>();
    final Set<LoopbackQueuePair> queuePairs = new HashSet<>();
    private final long serial;
    private boolean closed;

    LoopbackProtectionDomain(LoopbackDevice device) {
        this.device = device;
        this.serial = device.fabric.openObjects.nextSerial();
        device.fabric.openObjects.opened(this);
    }

    @Override
    public RdmaDevice device() {
        return device;
    }

    @Override
    public MemoryRegion registerMemory(MemorySegment segment, Set<MemoryAccess> access) {
        MemoryRegistration.check(segment, access);
        Fabric fabric = device.fabric;
        fabric.lock.lock();
        try {
            requireOpen();
            device.requirePresent();
            LoopbackMemoryRegion mr = new LoopbackMemoryRegion(this, segment, Set.copyOf(access),
                    fabric.allocateKey(), fabric.allocateKey());
            byLkey.put(mr.lkey(), mr);
            byRkey.put(mr.rkey(), mr);
            return mr;
        } finally {
            fabric.lock.unlock();
        }
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    @Override
    public void close() {
        device.fabric.lock.lock();
        try {
            if (closed) {
                return;
            }
            List<Object> children = new ArrayList<>(byLkey.values());
            children.addAll(queuePairs);
            OpenObjects.requireNoneOpen(this, children);
            closed = true;
            device.fabric.openObjects.closed(this);
        } finally {
            device.fabric.lock.unlock();
        }
    }

    @Override
    public boolean isClosed() {
        return device.fabric.lockedTest(() -> closed);
    }

    @Override
    public String toString() {
        return "protection domain #" + serial + " on " + device.name();
    }
}
