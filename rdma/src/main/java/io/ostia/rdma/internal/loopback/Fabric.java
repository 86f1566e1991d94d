package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventHandler;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.OpenObjects;
import io.ostia.rdma.loopback.LoopbackFabric;
import io.ostia.rdma.loopback.WorkMatch;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The loopback fabric. Its lock guards the devices, ids, queue pairs and the work they execute;
 * each completion queue has its own lock inside it (see {@link LoopbackCompletionQueue}). Event
 * handlers run on channel threads without either.
 */
public final class Fabric implements LoopbackFabric {
    private static final Fabric SHARED = new Fabric(true);

    final ReentrantLock lock = new ReentrantLock();
    final OpenObjects openObjects = new OpenObjects();
    final CompletionFaults completionFaults = new CompletionFaults();
    private final boolean shared;
    private final Map<String, LoopbackDevice> devices = new LinkedHashMap<>();
    private final Set<InetAddress> unreachable = new HashSet<>();
    private final List<LoopbackCmId> listeners = new ArrayList<>();
    private final List<HeldEvent> held = new ArrayList<>();
    private Set<CmEventType> discarded = EnumSet.noneOf(CmEventType.class);
    private boolean holding;
    private long eventDelayNanos;
    private int nextPort = 40000;
    private int nextKey = 0x100;
    private int nextQpNumber = 0x11;
    private boolean closed;

    private record HeldEvent(LoopbackChannel channel, CmEvent event) {
    }

    public Fabric(boolean shared) {
        this.shared = shared;
        try {
            addDevice(DEFAULT_DEVICE, InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("loopback addresses must parse", e);
        }
    }

    public static Fabric shared() {
        return SHARED;
    }

    @Override
    public String name() {
        return "loopback";
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Throwable unavailabilityCause() {
        return null;
    }

    @Override
    public List<String> deviceNames() {
        lock.lock();
        try {
            List<String> names = new ArrayList<>();
            for (LoopbackDevice d : devices.values()) {
                if (!d.removed) {
                    names.add(d.name());
                }
            }
            return names;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CmEventChannel createEventChannel(CmEventHandler handler) {
        Objects.requireNonNull(handler, "handler");
        lock.lock();
        try {
            requireOpen();
            return new LoopbackChannel(this, handler);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<String> openObjects() {
        return openObjects.describe();
    }

    @Override
    public void addDevice(String name, InetAddress... addresses) {
        Objects.requireNonNull(name, "name");
        lock.lock();
        try {
            requireOpen();
            if (devices.containsKey(name)) {
                throw new IllegalArgumentException("a loopback device named " + name + " exists already");
            }
            for (InetAddress a : addresses) {
                LoopbackDevice owner = deviceOwning(a);
                if (owner != null) {
                    throw new IllegalArgumentException("address " + a.getHostAddress() + " belongs to device " + owner.name());
                }
            }
            devices.put(name, new LoopbackDevice(this, name, List.of(addresses)));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void removeDevice(String name) {
        lock.lock();
        try {
            LoopbackDevice device = devices.get(name);
            if (device == null || device.removed) {
                throw new IllegalArgumentException("no loopback device named " + name + "; devices: " + devices.keySet());
            }
            device.removed = true;
            for (LoopbackCmId id : List.copyOf(device.ids)) {
                id.onDeviceRemoved();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void dropConnection(CmId id) {
        if (!(id instanceof LoopbackCmId lid) || lid.fabric != this) {
            throw new IllegalArgumentException("not an id of this loopback fabric: " + id);
        }
        lock.lock();
        try {
            lid.dropConnection();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setUnreachable(InetAddress address, boolean value) {
        Objects.requireNonNull(address, "address");
        lock.lock();
        try {
            if (value) {
                unreachable.add(address);
            } else {
                unreachable.remove(address);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setCmEventDelay(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("CM event delay must not be negative: " + delay);
        }
        lock.lock();
        try {
            eventDelayNanos = delay.toNanos();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void holdCmEvents() {
        lock.lock();
        try {
            holding = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int releaseCmEvents(boolean reversed) {
        lock.lock();
        try {
            holding = false;
            List<HeldEvent> release = new ArrayList<>(held);
            held.clear();
            if (reversed) {
                Collections.reverse(release);
            }
            for (HeldEvent h : release) {
                h.channel.enqueue(h.event, eventDelayNanos);
            }
            return release.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void discardCmEvents(Set<CmEventType> types) {
        lock.lock();
        try {
            discarded = types.isEmpty() ? EnumSet.noneOf(CmEventType.class) : EnumSet.copyOf(types);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void holdCompletions(WorkMatch match) {
        Objects.requireNonNull(match, "match");
        run(() -> completionFaults.hold(match));
    }

    @Override
    public int releaseCompletions(boolean reversed) {
        return locked(() -> completionFaults.release(reversed));
    }

    @Override
    public void delayCompletions(WorkMatch match, Duration delay) {
        Objects.requireNonNull(match, "match");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("completion delay must not be negative: " + delay);
        }
        run(() -> completionFaults.delay(match, delay.toNanos()));
    }

    @Override
    public void dropCompletions(WorkMatch match) {
        Objects.requireNonNull(match, "match");
        run(() -> completionFaults.drop(match));
    }

    @Override
    public void failWorkRequests(WorkMatch match, WorkCompletionStatus status) {
        Objects.requireNonNull(match, "match");
        if (status == WorkCompletionStatus.SUCCESS) {
            throw new IllegalArgumentException("a failed work request needs an error status, not " + status);
        }
        run(() -> completionFaults.fail(match, status));
    }

    @Override
    public void clearCompletionFaults() {
        run(completionFaults::clear);
    }

    @Override
    public void close() {
        if (shared) {
            throw new IllegalStateException("the shared loopback fabric cannot be closed");
        }
        lock.lock();
        try {
            if (closed) {
                return;
            }
            OpenObjects.requireNoneOpen(this, openObjects.describe());
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return shared ? "shared loopback fabric" : "loopback fabric@" + Integer.toHexString(System.identityHashCode(this));
    }

    // ---- used by the fabric's objects ----

    /** Tries before a data-path caller sleeps on a lock: see {@link #lockSpinning}. */
    private static final int LOCK_SPINS = 200;

    /**
     * Takes a lock of the data path (posting, polling): holders keep it for a copy's time, so a
     * short spin gets it where sleeping would cost the holder a wake-up on its way out.
     */
    static void lockSpinning(ReentrantLock lock) {
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    /** Reads a value under the fabric lock. */
    <T> T locked(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    /** Runs an action under the fabric lock. */
    void run(Runnable action) {
        lock.lock();
        try {
            action.run();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Delivers the delayed completions that are due; the nanoseconds until the next falls due,
     * capped at {@code max} (for a queue's waiter, which holds no lock).
     */
    long nanosToNextDue(long max) {
        lock.lock();
        try {
            completionFaults.deliverDue();
            return completionFaults.nanosToNextDue(max);
        } finally {
            lock.unlock();
        }
    }

    /** Tests a condition under the fabric lock. */
    boolean lockedTest(BooleanSupplier test) {
        lock.lock();
        try {
            return test.getAsBoolean();
        } finally {
            lock.unlock();
        }
    }

    // The rest is called with the lock held.

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** Produces an event for a channel, applying the injected faults. */
    void emit(LoopbackChannel channel, CmEvent event) {
        if (discarded.contains(event.type())) {
            return;
        }
        if (holding) {
            held.add(new HeldEvent(channel, event));
        } else {
            channel.enqueue(event, eventDelayNanos);
        }
    }

    /** Whether a removed device had {@code address}. */
    boolean removedDeviceOwned(InetAddress address) {
        for (LoopbackDevice d : devices.values()) {
            if (d.removed && d.addresses.contains(address)) {
                return true;
            }
        }
        return false;
    }

    LoopbackDevice deviceOwning(InetAddress address) {
        for (LoopbackDevice d : devices.values()) {
            if (!d.removed && d.addresses.contains(address)) {
                return d;
            }
        }
        return null;
    }

    boolean isUnreachable(InetAddress address) {
        return unreachable.contains(address);
    }

    int allocatePort() {
        return nextPort++;
    }

    int allocateKey() {
        // Spread the keys so that an lkey used as an rkey (or the reverse) does not match by chance.
        nextKey += 0x101;
        return nextKey;
    }

    int allocateQpNumber() {
        return nextQpNumber++;
    }

    void addListener(LoopbackCmId id) {
        listeners.add(id);
    }

    void removeListener(LoopbackCmId id) {
        listeners.remove(id);
    }

    LoopbackCmId listenerFor(InetSocketAddress destination) {
        for (LoopbackCmId l : listeners) {
            InetSocketAddress a = l.localAddress;
            if (a.getPort() == destination.getPort()
                    && (a.getAddress().isAnyLocalAddress() || a.getAddress().equals(destination.getAddress()))) {
                return l;
            }
        }
        return null;
    }

    boolean portInUse(InetSocketAddress address) {
        for (LoopbackCmId l : listeners) {
            if (l.localAddress.getPort() == address.getPort()) {
                return true;
            }
        }
        return false;
    }
}
