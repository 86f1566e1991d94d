package io.ostia.rdma.internal.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A control-path downcall that captures errno: a failure (-1, NULL, or a returned error number,
 * depending on the function's convention) becomes a {@link io.ostia.rdma.NativeCallException}
 * naming the function, errno and its text. jextract's own downcalls do not capture errno, so
 * these are linked from the generated descriptors.
 */
final class NativeCall {
    private final String function;
    private final MethodHandle handle;

    NativeCall(String function, MemorySegment address, FunctionDescriptor descriptor) {
        this.function = function;
        this.handle = NativeAccess.errnoCapturing(address, descriptor);
    }

    /** Calls a function returning int that fails with -1. */
    int invokeInt(Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = NativeAccess.allocateCapture(arena);
            int rc = (int) invoke(capture, args);
            if (rc == -1) {
                throw NativeAccess.failure(function, NativeAccess.errno(capture));
            }
            return rc;
        }
    }

    /**
     * Calls a function returning int that fails with -1, on a non-blocking descriptor.
     *
     * @return false if it failed with EAGAIN (nothing to read), true if it succeeded
     */
    boolean invokeIntUnlessWouldBlock(Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = NativeAccess.allocateCapture(arena);
            if ((int) invoke(capture, args) != -1) {
                return true;
            }
            int errno = NativeAccess.errno(capture);
            if (errno == NativeAccess.EAGAIN) {
                return false;
            }
            throw NativeAccess.failure(function, errno);
        }
    }

    /** Calls a function returning a pointer that fails with NULL. */
    MemorySegment invokePointer(Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = NativeAccess.allocateCapture(arena);
            MemorySegment result = (MemorySegment) invoke(capture, args);
            if (result.equals(MemorySegment.NULL)) {
                throw NativeAccess.failure(function, NativeAccess.errno(capture));
            }
            return result;
        }
    }

    /** Calls a function that returns 0 or an error number (the ibv_destroy_* family). */
    void invokeReturningErrno(Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) invoke(NativeAccess.allocateCapture(arena), args);
            if (rc != 0) {
                throw NativeAccess.failure(function, rc < 0 ? -rc : rc);
            }
        }
    }

    /** Calls a function that cannot fail (void, or a result that needs no check). */
    Object invokeUnchecked(Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            return invoke(NativeAccess.allocateCapture(arena), args);
        }
    }

    private Object invoke(MemorySegment capture, Object[] args) {
        Object[] all = new Object[args.length + 1];
        all[0] = capture;
        System.arraycopy(args, 0, all, 1, args.length);
        try {
            return handle.invokeWithArguments(all);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(function + " downcall failed", t);
        }
    }

    @Override
    public String toString() {
        return function;
    }
}
