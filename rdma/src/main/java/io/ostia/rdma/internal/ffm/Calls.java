package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.internal.ffm.gen.Verbs;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libibverbs and librdmacm functions the native provider calls (besides the static-inline
 * data path), linked from one symbol lookup: the installed libraries, or in tests a stand-in
 * library. Signatures come from the generated bindings.
 */
final class Calls {
    final NativeCall ibvGetDeviceList;
    /**
     * {@code ibv_get_device_list} and {@code ibv_free_device_list} for the device watcher's
     * slices ({@link DeviceContexts}): exact-typed, pointers as addresses, no errno capture; a
     * NULL list is re-run through {@link #ibvGetDeviceList} to learn errno. (count out) list,
     * and (list) void.
     */
    final MethodHandle ibvGetDeviceListUncaptured;
    final MethodHandle ibvFreeDeviceListUncaptured;
    final NativeCall ibvAllocPd;
    final NativeCall ibvRegMr;
    final NativeCall ibvCreateCompChannel;
    final NativeCall ibvCreateCq;
    final NativeCall ibvGetCqEvent;
    /**
     * {@code ibv_get_cq_event} for the completion wait ({@link CompletionWait}): exact-typed,
     * pointers as addresses, no errno capture (which allocates per call below C2); a failure is
     * re-run through {@link #ibvGetCqEvent} to learn errno. (channel, cq out, context out) int.
     */
    final MethodHandle ibvGetCqEventUncaptured;
    final NativeCall rdmaCreateEventChannel;
    final NativeCall rdmaCreateId;
    final NativeCall rdmaDestroyId;
    final NativeCall rdmaBindAddr;
    final NativeCall rdmaResolveAddr;
    final NativeCall rdmaResolveRoute;
    final NativeCall rdmaCreateQp;
    final NativeCall rdmaConnect;
    final NativeCall rdmaListen;
    final NativeCall rdmaAccept;
    final NativeCall rdmaReject;
    final NativeCall rdmaDisconnect;
    final NativeCall rdmaGetCmEvent;
    final NativeCall rdmaAckCmEvent;
    final NativeCall ibvFreeDeviceList;
    final NativeCall ibvGetDeviceName;
    final NativeCall ibvQueryDevice;
    final NativeCall ibvDeallocPd;
    final NativeCall ibvDeregMr;
    final NativeCall ibvDestroyCq;
    final NativeCall ibvDestroyCompChannel;
    /** Exact-typed, for the completion wait: (cq address, nevents) void. */
    final MethodHandle ibvAckCqEvents;
    final NativeCall ibvModifyQp;
    final NativeCall rdmaDestroyQp;
    final NativeCall rdmaDestroyEventChannel;
    /** librdmacm's device contexts, each list a reference on them: see {@link DeviceContexts}. */
    final NativeCall rdmaGetDevices;
    final NativeCall rdmaFreeDevices;
    final NativeCall ibvGetAsyncEvent;
    final NativeCall ibvAckAsyncEvent;

    Calls(SymbolLookup lookup) {
        ibvGetDeviceList = call(lookup, "ibv_get_device_list", Verbs.ibv_get_device_list$descriptor());
        ibvGetDeviceListUncaptured = NativeAccess.downcall(lookup.findOrThrow("ibv_get_device_list"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        ibvFreeDeviceListUncaptured = NativeAccess.downcall(lookup.findOrThrow("ibv_free_device_list"),
                FunctionDescriptor.ofVoid(JAVA_LONG));
        ibvAllocPd = call(lookup, "ibv_alloc_pd", Verbs.ibv_alloc_pd$descriptor());
        ibvRegMr = call(lookup, "ibv_reg_mr", Verbs.ibv_reg_mr$descriptor());
        ibvCreateCompChannel = call(lookup, "ibv_create_comp_channel", Verbs.ibv_create_comp_channel$descriptor());
        ibvCreateCq = call(lookup, "ibv_create_cq", Verbs.ibv_create_cq$descriptor());
        ibvGetCqEvent = call(lookup, "ibv_get_cq_event", Verbs.ibv_get_cq_event$descriptor());
        // Pointers as addresses (long), as the data path passes them: a segment argument costs an
        // acquire and release per call. CompletionWait keeps them alive.
        ibvGetCqEventUncaptured = NativeAccess.downcall(lookup.findOrThrow("ibv_get_cq_event"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        rdmaCreateEventChannel = call(lookup, "rdma_create_event_channel", Verbs.rdma_create_event_channel$descriptor());
        rdmaCreateId = call(lookup, "rdma_create_id", Verbs.rdma_create_id$descriptor());
        rdmaDestroyId = call(lookup, "rdma_destroy_id", Verbs.rdma_destroy_id$descriptor());
        rdmaBindAddr = call(lookup, "rdma_bind_addr", Verbs.rdma_bind_addr$descriptor());
        rdmaResolveAddr = call(lookup, "rdma_resolve_addr", Verbs.rdma_resolve_addr$descriptor());
        rdmaResolveRoute = call(lookup, "rdma_resolve_route", Verbs.rdma_resolve_route$descriptor());
        rdmaCreateQp = call(lookup, "rdma_create_qp", Verbs.rdma_create_qp$descriptor());
        rdmaConnect = call(lookup, "rdma_connect", Verbs.rdma_connect$descriptor());
        rdmaListen = call(lookup, "rdma_listen", Verbs.rdma_listen$descriptor());
        rdmaAccept = call(lookup, "rdma_accept", Verbs.rdma_accept$descriptor());
        rdmaReject = call(lookup, "rdma_reject", Verbs.rdma_reject$descriptor());
        rdmaDisconnect = call(lookup, "rdma_disconnect", Verbs.rdma_disconnect$descriptor());
        rdmaGetCmEvent = call(lookup, "rdma_get_cm_event", Verbs.rdma_get_cm_event$descriptor());
        rdmaAckCmEvent = call(lookup, "rdma_ack_cm_event", Verbs.rdma_ack_cm_event$descriptor());
        ibvFreeDeviceList = call(lookup, "ibv_free_device_list", Verbs.ibv_free_device_list$descriptor());
        ibvGetDeviceName = call(lookup, "ibv_get_device_name", Verbs.ibv_get_device_name$descriptor());
        ibvQueryDevice = call(lookup, "ibv_query_device", Verbs.ibv_query_device$descriptor());
        ibvDeallocPd = call(lookup, "ibv_dealloc_pd", Verbs.ibv_dealloc_pd$descriptor());
        ibvDeregMr = call(lookup, "ibv_dereg_mr", Verbs.ibv_dereg_mr$descriptor());
        ibvDestroyCq = call(lookup, "ibv_destroy_cq", Verbs.ibv_destroy_cq$descriptor());
        ibvDestroyCompChannel = call(lookup, "ibv_destroy_comp_channel", Verbs.ibv_destroy_comp_channel$descriptor());
        ibvAckCqEvents = NativeAccess.downcall(lookup.findOrThrow("ibv_ack_cq_events"), FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT));
        ibvModifyQp = call(lookup, "ibv_modify_qp", Verbs.ibv_modify_qp$descriptor());
        rdmaDestroyQp = call(lookup, "rdma_destroy_qp", Verbs.rdma_destroy_qp$descriptor());
        rdmaDestroyEventChannel = call(lookup, "rdma_destroy_event_channel", Verbs.rdma_destroy_event_channel$descriptor());
        // Not in the generated bindings: struct ibv_context **rdma_get_devices(int *), void rdma_free_devices(struct ibv_context **).
        rdmaGetDevices = call(lookup, "rdma_get_devices", FunctionDescriptor.of(ADDRESS, ADDRESS));
        rdmaFreeDevices = call(lookup, "rdma_free_devices", FunctionDescriptor.ofVoid(ADDRESS));
        // Nor: int ibv_get_async_event(struct ibv_context *, struct ibv_async_event *), void ibv_ack_async_event(struct ibv_async_event *).
        ibvGetAsyncEvent = call(lookup, "ibv_get_async_event", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ibvAckAsyncEvent = call(lookup, "ibv_ack_async_event", FunctionDescriptor.ofVoid(ADDRESS));
    }

    private static NativeCall call(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return new NativeCall(name, lookup.findOrThrow(name), descriptor);
    }
}
