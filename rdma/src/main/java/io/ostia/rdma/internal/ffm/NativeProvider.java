package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventHandler;
import io.ostia.rdma.RdmaException;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.internal.OpenObjects;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The {@code native} provider: libibverbs and librdmacm through java.lang.foreign. Available
 * only if native access is enabled, both libraries load, and at least one device exists; the
 * cause says which of these failed.
 *
 * <p>Its device watcher ({@link DeviceContexts}) lives until {@link #close}: the JVM's shared
 * instance ({@link #instance()}) is never closed, as librdmacm's contexts are the process's; a
 * provider of one's own ({@link #newInstance()}) is closed by whoever made it.
 */
public final class NativeProvider implements RdmaProvider, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NativeProvider.class.getName());
    private static final AtomicInteger SERIALS = new AtomicInteger();
    private static final NativeProvider INSTANCE = new NativeProvider(null);

    final OpenObjects openObjects = new OpenObjects();
    final DeviceContexts contexts = new DeviceContexts(this);
    /** A stand-in library to use instead of the installed ones (tests); null for the real ones. */
    private final Path library;
    private volatile Calls calls;
    private volatile Throwable unavailabilityCause;
    private volatile boolean probed;
    private volatile boolean closed;
    /** 0 for the shared instance; tells the watcher threads of several providers apart. */
    private final int serial = SERIALS.getAndIncrement();

    private NativeProvider(Path library) {
        this.library = library;
    }

    public static NativeProvider instance() {
        return INSTANCE;
    }

    /**
     * A provider of the caller's own on the installed libraries, for code that owns its life (a
     * test that checks the watcher ends): {@link #close} it. Everyone else uses {@link #instance()}.
     */
    public static NativeProvider newInstance() {
        return new NativeProvider(null);
    }

    /** A provider whose verbs and rdma_cm functions come from {@code library} (for tests). */
    static NativeProvider withLibrary(Path library) {
        return new NativeProvider(Objects.requireNonNull(library, "library"));
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    @Override
    public Throwable unavailabilityCause() {
        if (!probed) {
            synchronized (this) {
                if (!probed) {
                    unavailabilityCause = probe();
                    probed = true;
                    if (unavailabilityCause != null) {
                        LOG.log(System.Logger.Level.DEBUG, "native RDMA unavailable: " + unavailabilityCause.getMessage());
                    }
                }
            }
        }
        return unavailabilityCause;
    }

    private Throwable probe() {
        String accessProblem = nativeAccessProblem();
        if (accessProblem != null) {
            return new RdmaException(accessProblem);
        }
        SymbolLookup lookup;
        try {
            lookup = library != null ? NativeAccess.load(library)
                    : load(NativeAccess.LIBIBVERBS, "libibverbs1").or(load(NativeAccess.LIBRDMACM, "librdmacm1"));
            calls = new Calls(lookup);
        } catch (RdmaException e) {
            return e;
        } catch (IllegalArgumentException | NoSuchElementException e) {
            return new RdmaException("cannot use " + (library != null ? library : "the RDMA libraries") + ": " + e.getMessage(), e);
        }
        try {
            if (listDeviceNames().isEmpty()) {
                return new RdmaException("no RDMA device: ibv_get_device_list found none (no /dev/infiniband, or no "
                        + "provider for the hardware in ibverbs-providers)");
            }
        } catch (RdmaException e) {
            return new RdmaException("no RDMA device: " + e.getMessage(), e);
        }
        return null;
    }

    private static SymbolLookup load(String soname, String debianPackage) {
        try {
            return NativeAccess.load(soname);
        } catch (IllegalArgumentException e) {
            throw new RdmaException("library " + soname + " is missing (install " + debianPackage + " and ibverbs-providers)", e);
        }
    }

    /**
     * Why java.lang.foreign cannot be used by this module, or null if it can. Checked before
     * NativeAccess is loaded: its static initialiser links downcalls, which would fail.
     */
    private static String nativeAccessProblem() {
        Module module = NativeProvider.class.getModule();
        if (module.isNativeAccessEnabled()) {
            return null;
        }
        String name = module.isNamed() ? module.getName() : "ALL-UNNAMED";
        return "native access is not enabled for " + (module.isNamed() ? "module " + name : "the class path")
                + "; start the JVM with --enable-native-access=" + name;
    }

    /** The linked functions; only once available. */
    Calls calls() {
        ensureAvailability();
        return calls;
    }

    @Override
    public List<String> deviceNames() {
        ensureAvailability();
        return listDeviceNames();
    }

    private List<String> listDeviceNames() {
        List<String> names = new ArrayList<>();
        forEachListedDevice(device -> names.add(NativeAccess.cString(calls.ibvGetDeviceName.invokePointer(device))));
        return names;
    }

    /** The {@code struct ibv_device *} of every device libibverbs lists now. */
    Set<Long> listedDevices() {
        Set<Long> devices = new HashSet<>();
        forEachListedDevice(device -> devices.add(device.address()));
        return devices;
    }

    private void forEachListedDevice(Consumer<MemorySegment> action) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = calls.ibvGetDeviceList.invokePointer(count);
            try {
                int n = count.get(JAVA_INT, 0);
                MemorySegment entries = NativeAccess.struct(list, ADDRESS.byteSize() * n);
                for (int i = 0; i < n; i++) {
                    action.accept(entries.getAtIndex(ADDRESS, i));
                }
            } finally {
                calls.ibvFreeDeviceList.invokeUnchecked(list);
            }
        }
    }

    @Override
    public CmEventChannel createEventChannel(CmEventHandler handler) {
        Objects.requireNonNull(handler, "handler");
        ensureAvailability();
        if (closed) {
            throw new RdmaException(this + " is closed");
        }
        return new NativeEventChannel(this, handler);
    }

    /**
     * Stops the device watcher (bounded; its thread is gone when this returns true) and refuses
     * new event channels. Idempotent. Everything of the provider must be closed first: the watcher
     * acknowledges the async events that closing queue pairs waits for.
     *
     * @throws IllegalStateException on the shared instance, or while objects are open (named)
     * @throws RdmaException if the watcher did not end within its bound (logged)
     */
    @Override
    public void close() {
        if (this == INSTANCE) {
            throw new IllegalStateException("the shared native provider lives as long as the JVM; close a newInstance() instead");
        }
        List<String> open = openObjects();
        if (!open.isEmpty()) {
            throw new IllegalStateException("cannot close " + this + " while objects are open: " + open);
        }
        closed = true;
        try {
            if (!contexts.close()) {
                throw new RdmaException("the device watcher of " + this + " did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RdmaException("interrupted while " + this + "'s device watcher stopped", e);
        }
    }

    @Override
    public List<String> openObjects() {
        return openObjects.describe();
    }

    /** The device object for an {@code ibv_context *} that librdmacm opened. */
    NativeDevice device(MemorySegment contextPointer) {
        return contexts.device(contextPointer);
    }

    /** The name of this provider's device watcher thread (tests look for it). */
    public String watcherName() {
        return serial == 0 ? DeviceContexts.WATCHER_NAME : DeviceContexts.WATCHER_NAME + "-" + serial;
    }

    @Override
    public String toString() {
        return serial == 0 ? "native RDMA provider" : "native RDMA provider #" + serial;
    }
}
