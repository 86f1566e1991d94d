package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.NativeCallException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import io.ostia.rdma.internal.ffm.gen.ibv_context;
import io.ostia.rdma.internal.ffm.gen.ibv_context_ops;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The one reviewed class of the native provider that makes restricted java.lang.foreign calls
 * (linking downcalls, loading libraries, giving raw pointers a size), in the manner of Lucene's
 * PosixNativeAccess. Everything else in the provider goes through it or the generated bindings.
 *
 * <p>It also holds the calls to the four {@code static inline} verbs functions
 * ({@code ibv_post_send}, {@code ibv_post_recv}, {@code ibv_poll_cq}, {@code ibv_req_notify_cq}),
 * which have no symbol: like the inline functions, it calls the function pointers in
 * {@code ibv_context.ops}. These return an error number instead of setting errno.
 */
@SuppressWarnings("restricted") // the reviewed place for restricted calls; RestrictedCallsTest keeps them here
public final class NativeAccess {
    /** Library sonames of rdma-core's runtime packages (libibverbs1, librdmacm1). */
    public static final String LIBIBVERBS = "libibverbs.so.1";
    public static final String LIBRDMACM = "librdmacm.so.1";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // The data-path calls: short and never blocking, so critical (no thread-state transition).
    // Struct pointers go as plain addresses: a segment of a shared arena passed as ADDRESS is
    // acquired and released around every call (two atomic operations per argument), which
    // doubled the cost of a post. The owners (DataPath's users) guarantee liveness instead:
    // they close the arena only under the lock that serialises the calls. The function pointer
    // (from ibv_context.ops) is the handles' leading target argument.
    private static final MethodHandle POST_WR = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle POLL_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG), Linker.Option.critical(false));
    private static final MethodHandle REQ_NOTIFY_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT), Linker.Option.critical(false));

    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    /** {@code int poll(struct pollfd *fds, nfds_t nfds, int timeout)}. */
    private static final MethodHandle POLL = LINKER.downcallHandle(
            LIBC.findOrThrow("poll"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    /**
     * The same poll without errno capture, for the waits of threads that wait all their life:
     * the JDK slices the capture segment on every capturing call (an allocation only C2's
     * escape analysis removes). A failure is re-run through {@link #POLL} to learn why.
     */
    private static final MethodHandle POLL_UNCAPTURED = LINKER.downcallHandle(
            LIBC.findOrThrow("poll"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));
    private static final short POLLIN = 1;
    private static final int EINTR = 4;
    /** {@code int fcntl(int fd, int cmd, ...)}: F_GETFL takes no argument, F_SETFL one int. */
    private static final MethodHandle FCNTL_GET = LINKER.downcallHandle(
            LIBC.findOrThrow("fcntl"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle FCNTL_SET = LINKER.downcallHandle(
            LIBC.findOrThrow("fcntl"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    /** {@code void *malloc(size_t)}: for the lists librdmacm frees itself ({@code rdma_free_devices}). */
    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LIBC.findOrThrow("malloc"), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    private static final int ENOMEM = 12;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 0x800;
    /** errno of a read from a non-blocking descriptor that has nothing. */
    static final int EAGAIN = 11;

    private NativeAccess() {
    }

    /**
     * Loads a library by soname.
     *
     * @throws IllegalArgumentException if it cannot be loaded
     */
    public static SymbolLookup load(String soname) {
        return SymbolLookup.libraryLookup(soname, Arena.global());
    }

    /**
     * Loads a library by path.
     *
     * @throws IllegalArgumentException if it cannot be loaded
     */
    static SymbolLookup load(java.nio.file.Path library) {
        return SymbolLookup.libraryLookup(library, Arena.global());
    }

    /** A downcall that captures errno; see {@link #errno(MemorySegment)}. */
    static MethodHandle errnoCapturing(MemorySegment function, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(function, descriptor, CAPTURE_ERRNO);
    }

    /** A plain downcall, for a symbol whose result needs no errno. */
    static MethodHandle downcall(MemorySegment function, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(function, descriptor);
    }

    /** All of memory, to read at a native address without a segment per read. */
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Entry {@code index} of the C pointer array at {@code array}, as an address (no segment made). */
    static long pointerAt(long array, int index) {
        return ALL_MEMORY.get(JAVA_LONG_UNALIGNED, array + (long) index * ADDRESS.byteSize());
    }

    /** Allocates the errno capture segment a {@link #errnoCapturing} handle takes first. */
    static MemorySegment allocateCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** {@code strerror(errno)}, copied into a Java string. */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "unknown error" : text.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("strerror(" + errno + ") failed", t);
        }
    }

    /** The exception for a failed call. */
    public static NativeCallException failure(String function, int errno) {
        return new NativeCallException(function, errno, strerror(errno));
    }

    /** A raw pointer as a segment of {@code size} bytes. */
    static MemorySegment struct(MemorySegment pointer, long size) {
        return pointer.reinterpret(size);
    }

    /** A pointer to a NUL-terminated C string, read into a Java string. */
    static String cString(MemorySegment pointer) {
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** A struct of this layout at a pointer. */
    static MemorySegment struct(MemorySegment pointer, MemoryLayout layout) {
        return pointer.reinterpret(layout.byteSize());
    }

    /**
     * A NULL-terminated array of {@code pointers} in malloc'd memory, for a callee that frees it
     * (rdma_free_devices calls free(3) on its list).
     */
    static MemorySegment mallocPointerList(java.util.List<MemorySegment> pointers) {
        long size = ADDRESS.byteSize() * (pointers.size() + 1L);
        MemorySegment list;
        try {
            list = (MemorySegment) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new IllegalStateException("malloc downcall failed", t);
        }
        if (list.equals(MemorySegment.NULL)) {
            throw failure("malloc", ENOMEM);
        }
        list = list.reinterpret(size);
        for (int i = 0; i < pointers.size(); i++) {
            list.setAtIndex(ADDRESS, i, pointers.get(i));
        }
        list.setAtIndex(ADDRESS, pointers.size(), MemorySegment.NULL);
        return list;
    }

    /** Makes reads from {@code fd} return EAGAIN instead of blocking when it has nothing. */
    static void setNonBlocking(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = allocateCapture(arena);
            int flags = (int) FCNTL_GET.invokeExact(capture, fd, F_GETFL);
            if (flags < 0 || (int) FCNTL_SET.invokeExact(capture, fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                throw failure("fcntl", errno(capture));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl downcall failed", t);
        }
    }

    /**
     * A poll(2) for one descriptor's readability. Its pollfd and errno capture are allocated
     * once, in the owner's arena, so that a thread that waits in slices for its whole life
     * does not grow that arena with every slice.
     */
    static final class ReadableWait {
        private final MemorySegment pollfd;
        private final MemorySegment capture;

        ReadableWait(int fd, Arena arena) {
            pollfd = arena.allocate(POLLFD);
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, POLLIN);
            capture = allocateCapture(arena);
        }

        /**
         * Makes the next waits watch {@code fd} instead: one wait (its pollfd and capture in its
         * owner's arena) serves several descriptors in turn, on the one thread that waits.
         */
        void watch(int fd) {
            pollfd.set(JAVA_INT, 0, fd);
        }

        /**
         * Waits until the descriptor is readable.
         *
         * @return true if readable, false on timeout (also when a signal cut the wait short)
         */
        boolean await(int timeoutMillis) {
            int rc;
            try {
                rc = (int) POLL_UNCAPTURED.invokeExact(pollfd, 1L, timeoutMillis);
                if (rc < 0) {
                    // errno is gone by now: ask again, capturing it. A signal (EINTR) does not
                    // recur, so the re-run returns normally; a bad argument fails again.
                    // (CompletionWait.await re-runs a failed ibv_get_cq_event the same way.)
                    rc = (int) POLL.invokeExact(capture, pollfd, 1L, 0);
                }
            } catch (Throwable t) {
                throw new IllegalStateException("poll downcall failed", t);
            }
            if (rc < 0) {
                int errno = errno(capture);
                if (errno == EINTR) {
                    return false;
                }
                throw failure("poll", errno);
            }
            return rc > 0;
        }
    }

    // ---- the static inline verbs, through ibv_context.ops ----

    /** Function pointers of a context's {@code ops} table that the data path calls. */
    record ContextOps(MemorySegment postSend, MemorySegment postRecv, MemorySegment pollCq, MemorySegment reqNotifyCq) {
        /** Reads them from an {@code ibv_context *}. */
        static ContextOps of(MemorySegment contextPointer) {
            MemorySegment context = struct(contextPointer, ibv_context.layout());
            MemorySegment ops = ibv_context.ops(context);
            return new ContextOps(
                    ibv_context_ops.post_send(ops),
                    ibv_context_ops.post_recv(ops),
                    ibv_context_ops.poll_cq(ops),
                    ibv_context_ops.req_notify_cq(ops));
        }
    }

    /** {@code ibv_post_send}: 0, or the error number. */
    static int postSend(MemorySegment function, MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        try {
            return (int) POST_WR.invokeExact(function, qp.address(), wr.address(), badWr.address());
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_post_send downcall failed", t);
        }
    }

    /** {@code ibv_post_recv}: 0, or the error number. */
    static int postRecv(MemorySegment function, MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        try {
            return (int) POST_WR.invokeExact(function, qp.address(), wr.address(), badWr.address());
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_post_recv downcall failed", t);
        }
    }

    /** {@code ibv_poll_cq}: completions written, or a negative number on error. */
    static int pollCq(MemorySegment function, MemorySegment cq, int entries, MemorySegment wc) {
        try {
            return (int) POLL_CQ.invokeExact(function, cq.address(), entries, wc.address());
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_poll_cq downcall failed", t);
        }
    }

    /** {@code ibv_req_notify_cq}: 0, or the error number. */
    static int reqNotifyCq(MemorySegment function, MemorySegment cq, int solicitedOnly) {
        try {
            return (int) REQ_NOTIFY_CQ.invokeExact(function, cq.address(), solicitedOnly);
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_req_notify_cq downcall failed", t);
        }
    }
}
