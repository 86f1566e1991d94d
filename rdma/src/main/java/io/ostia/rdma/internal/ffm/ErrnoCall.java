package io.ostia.rdma.internal.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A control-path downcall that captures errno: a failure (-1, or NULL for functions returning a
 * pointer) becomes a {@link io.ostia.rdma.NativeCallException} naming the function, errno and
 * its text. jextract's own downcalls do not capture errno, so these are linked from the
 * generated address and descriptor.
 */
final class ErrnoCall {
    private final String function;
    private final MethodHandle handle;

    ErrnoCall(String function, MemorySegment address, FunctionDescriptor descriptor) {
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
