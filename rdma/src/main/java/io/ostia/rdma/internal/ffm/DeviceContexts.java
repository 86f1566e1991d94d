package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.RdmaException;
import io.ostia.rdma.internal.ffm.gen.ibv_context;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The device contexts ({@code ibv_context}) librdmacm opened for this process, and their release
 * when a device is removed.
 *
 * <p>librdmacm (rdma-core's cma.c) opens a device's context when an id first binds to it, and
 * for every device on {@code rdma_get_devices}; it keeps it after the last id is gone and closes
 * it only once it has seen the device leave the device list ({@code sync_devices_list}, run by
 * {@code rdma_get_devices}) and no reference is left (ids, {@code rdma_get_devices} lists). The
 * kernel, unregistering a device without {@code disassociate_ucontext} (rxe), waits until every
 * uverbs file on it is closed: {@code rdma link delete} blocks while the context is open. So:
 * <ul>
 *   <li>our own verbs objects on a device (protection domains, completion queues with their
 *       channels) hold one librdmacm reference while any is open ({@link #pin}), so the context
 *       cannot close under them;</li>
 *   <li>a watcher thread, alive while librdmacm holds a context known here and the provider is
 *       open ({@link #close} stops it), polls the device list; when a device leaves it, the
 *       device is marked removed and {@code rdma_get_devices} runs, after which librdmacm closes
 *       the context as soon as its last reference goes (at once if none is left). It also reads
 *       and acknowledges the async events of pinned contexts
 *       ({@link NativeDevice#drainAsyncEvents}).</li>
 * </ul>
 * A context's address names it only while it is open: once librdmacm has closed a removed
 * device's context, a new context (of a device added later) may get the same address. A device
 * that left the list therefore stays here, removed, under its address (an id still on it finds
 * it removed), until a context at that address belongs to a listed device: that is a new context,
 * and gets a new device object ({@link #device}).
 * librdmacm's sync gives up when no device at all is left (ENODEV, before it compares the
 * lists): the last device's context then stays open, and its removal waits, until another
 * device appears; the watcher retries until then.
 */
final class DeviceContexts {
    private static final System.Logger LOG = System.getLogger(DeviceContexts.class.getName());
    /** How often the watcher looks at the device list: the added wait of a device removal. */
    private static final long WATCH_SLICE_MILLIS = 200;
    /** How long {@link #close} waits for the watcher to end (it ends within one native call). */
    private static final long CLOSE_BOUND_MILLIS = 5_000;
    /** The shared provider's watcher thread's name; another's ends in its serial. */
    static final String WATCHER_NAME = "ostia-rdma-native-devices";
    /**
     * {@code struct ibv_async_event}: a union of pointers and an int (element), then the enum
     * event_type (not in the generated bindings; LayoutConformanceTest checks it against C).
     */
    static final StructLayout ASYNC_EVENT = MemoryLayout.structLayout(
            ADDRESS.withName("element"), JAVA_INT.withName("event_type"), MemoryLayout.paddingLayout(4));
    static final long ASYNC_EVENT_TYPE_OFFSET = ASYNC_EVENT.byteOffset(MemoryLayout.PathElement.groupElement("event_type"));
    /** {@code IBV_EVENT_DEVICE_FATAL} of {@code enum ibv_event_type}. */
    static final int IBV_EVENT_DEVICE_FATAL = 8;

    private final NativeProvider provider;
    /** By context address, those that left the device list included (see the class comment); guarded by this. */
    private final Map<Long, NativeDevice> devices = new HashMap<>();
    /** Devices in {@link #devices} that left the device list; guarded by this. */
    private final Set<NativeDevice> left = new HashSet<>();
    /**
     * The devices in {@link #devices} that have not left the list, in {@code [0, listedCount)}: what
     * a watch slice looks at, as an array so that a slice walks it without an iterator; guarded by this.
     */
    private NativeDevice[] listed = new NativeDevice[4];
    private int listedCount;
    /** Devices gone from the list that librdmacm has not been told of yet; guarded by this. */
    private final List<NativeDevice> unsynced = new ArrayList<>();
    /** Guarded by this. */
    private Thread watcher;
    /** Set by {@link #close}: no watcher starts again; guarded by this. */
    private boolean closed;

    DeviceContexts(NativeProvider provider) {
        this.provider = provider;
    }

    /** The device object for an {@code ibv_context *} librdmacm opened; watched from now on. */
    synchronized NativeDevice device(MemorySegment contextPointer) {
        NativeDevice device = devices.get(contextPointer.address());
        MemorySegment ibvDevice = ibv_context.device(NativeAccess.struct(contextPointer, ibv_context.layout()));
        // A context librdmacm opens is of a listed device: one at the address of a device that left
        // the list, whose device is listed, replaced the closed context there.
        if (device == null || left.contains(device) && provider.listedDevices().contains(ibvDevice.address())) {
            if (device != null) {
                left.remove(device);
                NativeDevice stale = device;
                LOG.log(System.Logger.Level.DEBUG, () -> "a new context took the address of removed " + stale);
            }
            String name = NativeAccess.cString(provider.calls().ibvGetDeviceName.invokePointer(ibvDevice));
            device = new NativeDevice(provider, contextPointer, ibvDevice, name);
            devices.put(contextPointer.address(), device);
            if (listedCount == listed.length) {
                listed = Arrays.copyOf(listed, listedCount * 2);
            }
            listed[listedCount++] = device;
        }
        if (watcher == null && !closed && listedCount > 0) {
            watcher = Thread.ofPlatform().daemon().name(provider.watcherName()).start(this::watch);
        }
        return device;
    }

    /**
     * Stops the watcher, waiting for it at most {@link #CLOSE_BOUND_MILLIS}; none starts again.
     * Idempotent. A device removed afterwards stays open in librdmacm until the process ends.
     *
     * @return false if the watcher did not end within the bound (logged)
     */
    boolean close() throws InterruptedException {
        Thread running;
        synchronized (this) {
            closed = true;
            running = watcher;
        }
        if (running == null) {
            return true;
        }
        running.interrupt();
        if (!running.join(Duration.ofMillis(CLOSE_BOUND_MILLIS))) {
            LOG.log(System.Logger.Level.ERROR, "the device watcher did not stop within " + CLOSE_BOUND_MILLIS + " ms of the provider's close");
            return false;
        }
        return true;
    }

    /**
     * Takes one librdmacm reference on {@code device}'s context: a one-entry
     * {@code rdma_get_devices} list, released by {@link #unpin}.
     *
     * @throws RdmaException if librdmacm no longer lists the device (it was removed)
     */
    MemorySegment pin(NativeDevice device) {
        Calls calls = provider.calls();
        MemorySegment list;
        int n;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment count = call.allocate(JAVA_INT);
            list = calls.rdmaGetDevices.invokePointer(count);
            n = count.get(JAVA_INT, 0);
        }
        MemorySegment entries = NativeAccess.struct(list, ADDRESS.byteSize() * (n + 1L));
        List<MemorySegment> others = new ArrayList<>();
        boolean listed = false;
        for (int i = 0; i < n; i++) {
            MemorySegment context = entries.getAtIndex(ADDRESS, i);
            device(context); // rdma_get_devices opened every listed device's context: watch it
            if (context.address() == device.context.address()) {
                listed = true;
            } else {
                others.add(context);
            }
        }
        // The list holds a reference on every device in it; keep ours only.
        if (!others.isEmpty()) {
            MemorySegment othersList;
            try {
                othersList = NativeAccess.mallocPointerList(others);
            } catch (RuntimeException e) {
                calls.rdmaFreeDevices.invokeUnchecked(list); // every reference back
                throw e;
            }
            calls.rdmaFreeDevices.invokeUnchecked(othersList);
        }
        entries.setAtIndex(ADDRESS, 0, listed ? device.context : MemorySegment.NULL);
        entries.setAtIndex(ADDRESS, 1, MemorySegment.NULL);
        if (!listed) {
            calls.rdmaFreeDevices.invokeUnchecked(list);
            throw new RdmaException("RDMA device " + device.name() + " was removed");
        }
        return list;
    }

    /** Gives back a reference {@link #pin} took; librdmacm closes the context if it was the last of a removed device. */
    void unpin(MemorySegment pin) {
        provider.calls().rdmaFreeDevices.invokeUnchecked(pin);
    }

    private void watch() {
        try (Arena arena = Arena.ofConfined()) {
            Watch slice = new Watch(arena);
            while (true) {
                Thread.sleep(WATCH_SLICE_MILLIS);
                if (!watchSlice(slice)) {
                    synchronized (this) {
                        watcher = null;
                    }
                    return;
                }
            }
        } catch (InterruptedException e) {
            synchronized (this) {
                if (!closed) {
                    LOG.log(System.Logger.Level.ERROR, "device watcher interrupted; removed devices may stay open", e);
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "device watcher failed; removed devices may stay open", e);
        }
        synchronized (this) {
            watcher = null;
        }
    }

    /**
     * What one watch slice reuses, made once per watcher: the slice allocates nothing on the heap
     * while no device goes (it runs five times a second for as long as a context is open).
     */
    static final class Watch {
        final MemorySegment event;
        /** Polls a device's async event descriptor before the (allocating, capturing) read. */
        final NativeAccess.ReadableWait asyncEvents;
        private final MemorySegment count;
        /** The listed devices at the start of the slice, copied out of the lock. */
        private NativeDevice[] devices = new NativeDevice[4];
        /** The {@code struct ibv_device *} of every device libibverbs lists now, in {@code [0, presentCount)}. */
        private long[] present = new long[4];
        private int presentCount;

        Watch(Arena arena) {
            event = arena.allocate(ASYNC_EVENT);
            asyncEvents = new NativeAccess.ReadableWait(-1, arena); // each device's descriptor in turn
            count = arena.allocate(JAVA_INT);
        }

        /** Reads libibverbs' device list into {@link #present}, by exact-typed uncaptured calls. */
        void readDeviceList(Calls calls) {
            long list;
            try {
                list = (long) calls.ibvGetDeviceListUncaptured.invokeExact(count.address());
            } catch (Throwable t) {
                throw rethrown("ibv_get_device_list", t);
            }
            if (list == 0) {
                list = calls.ibvGetDeviceList.invokePointer(count).address(); // throws naming errno, unless it now succeeds
            }
            try {
                int n = count.get(JAVA_INT, 0);
                if (n > present.length) {
                    present = new long[Math.max(n, present.length * 2)];
                }
                for (int i = 0; i < n; i++) {
                    present[i] = NativeAccess.pointerAt(list, i);
                }
                presentCount = n;
            } finally {
                free(calls.ibvFreeDeviceListUncaptured, list);
            }
        }

        private static void free(MethodHandle freeDeviceList, long list) {
            try {
                freeDeviceList.invokeExact(list);
            } catch (Throwable t) {
                throw rethrown("ibv_free_device_list", t);
            }
        }

        boolean isPresent(long ibvDevice) {
            for (int i = 0; i < presentCount; i++) {
                if (present[i] == ibvDevice) {
                    return true;
                }
            }
            return false;
        }

        /** What to throw for a downcall's {@code t}: itself when unchecked (an Error is thrown here). */
        private static RuntimeException rethrown(String function, Throwable t) {
            if (t instanceof Error e) {
                throw e;
            }
            return t instanceof RuntimeException r ? r : new IllegalStateException(function + " downcall failed", t);
        }
    }

    /**
     * One slice of the watcher, without its sleep: drains the listed devices' async events, then
     * marks removed those that left the device list and lets librdmacm know.
     *
     * @param slice the calling thread's reused state
     * @return false when the watcher may end: no device is listed and librdmacm knows of every one gone
     */
    boolean watchSlice(Watch slice) {
        int count;
        synchronized (this) {
            count = listedCount;
            if (slice.devices.length < count) {
                slice.devices = new NativeDevice[listed.length];
            }
            System.arraycopy(listed, 0, slice.devices, 0, count);
        }
        for (int i = 0; i < count; i++) {
            slice.devices[i].drainAsyncEvents(slice.event, slice.asyncEvents);
            slice.devices[i] = null; // keeps no device alive past its slice
        }
        slice.readDeviceList(provider.calls());
        List<NativeDevice> gone = null; // made only when a device actually goes
        synchronized (this) {
            for (int i = listedCount - 1; i >= 0; i--) {
                NativeDevice d = listed[i];
                if (!slice.isPresent(d.ibvDevice.address())) {
                    listed[i] = listed[--listedCount];
                    listed[listedCount] = null;
                    left.add(d);
                    if (gone == null) {
                        gone = new ArrayList<>();
                    }
                    gone.add(d);
                }
            }
        }
        if (gone != null) {
            for (NativeDevice device : gone) {
                device.markRemoved();
                LOG.log(System.Logger.Level.INFO, device + " left the device list; letting librdmacm close its context");
            }
        }
        boolean pending;
        synchronized (this) {
            if (gone != null) {
                unsynced.addAll(gone);
            }
            pending = !unsynced.isEmpty();
        }
        if (pending && sync()) {
            synchronized (this) {
                unsynced.clear();
            }
        }
        synchronized (this) {
            return listedCount > 0 || !unsynced.isEmpty();
        }
    }

    /**
     * {@code rdma_get_devices} and {@code rdma_free_devices}: librdmacm compares its list with
     * the present devices, marks the gone ones dead and closes those nobody references.
     *
     * @return false if librdmacm could not compare (no device at all is left)
     */
    private boolean sync() {
        Calls calls = provider.calls();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment count = call.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) calls.rdmaGetDevices.invokeUnchecked(count);
            if (list.equals(MemorySegment.NULL)) {
                return false;
            }
            int n = count.get(JAVA_INT, 0);
            MemorySegment entries = NativeAccess.struct(list, ADDRESS.byteSize() * (n + 1L));
            try {
                for (int i = 0; i < n; i++) {
                    device(entries.getAtIndex(ADDRESS, i));
                }
            } finally {
                calls.rdmaFreeDevices.invokeUnchecked(list);
            }
            return true;
        }
    }
}
