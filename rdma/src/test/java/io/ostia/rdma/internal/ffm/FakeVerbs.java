package io.ostia.rdma.internal.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Java side of fakeverbs.c: its QP and CQ, and what its ops recorded. */
@SuppressWarnings("restricted") // test code loading the C stand-in provider
public final class FakeVerbs {
    private final SymbolLookup lookup;

    public FakeVerbs(Path library, Arena arena) {
        this.lookup = SymbolLookup.libraryLookup(library, arena);
    }

    private MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return Linker.nativeLinker().downcallHandle(lookup.findOrThrow(name), descriptor);
    }

    private Object call(String name, FunctionDescriptor descriptor, Object... args) {
        try {
            return handle(name, descriptor).invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " failed", t);
        }
    }

    public MemorySegment qp() {
        return (MemorySegment) call("fake_qp", FunctionDescriptor.of(ADDRESS));
    }

    public MemorySegment cq() {
        return (MemorySegment) call("fake_cq", FunctionDescriptor.of(ADDRESS));
    }

    public void voidCall(String name, int... args) {
        FunctionDescriptor d = args.length == 0 ? FunctionDescriptor.ofVoid() : FunctionDescriptor.ofVoid(JAVA_INT);
        call(name, d, args.length == 0 ? new Object[0] : new Object[] {args[0]});
    }

    public int intCall(String name, int... args) {
        FunctionDescriptor d = args.length == 0 ? FunctionDescriptor.of(JAVA_INT) : FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        return (int) call(name, d, args.length == 0 ? new Object[0] : new Object[] {args[0]});
    }

    public long longCall(String name, int... args) {
        FunctionDescriptor d = args.length == 0 ? FunctionDescriptor.of(JAVA_LONG) : FunctionDescriptor.of(JAVA_LONG, JAVA_INT);
        return (long) call(name, d, args.length == 0 ? new Object[0] : new Object[] {args[0]});
    }

    public void queueCompletion(long wrId, int status, int opcode, int byteLength, int immediate, int wcFlags,
                                int qpNumber, int vendorError) {
        call("fake_queue_completion", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT), wrId, status, opcode, byteLength, immediate, wcFlags, qpNumber, vendorError);
    }
}
