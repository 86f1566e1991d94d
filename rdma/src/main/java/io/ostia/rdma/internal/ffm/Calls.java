package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.internal.ffm.gen.Verbs;

/**
 * The errno-capturing control-path calls. Loading this class loads libibverbs and librdmacm,
 * so only touch it once {@link NativeProvider} found them.
 */
final class Calls {
    static final ErrnoCall IBV_GET_DEVICE_LIST = new ErrnoCall("ibv_get_device_list",
            Verbs.ibv_get_device_list$address(), Verbs.ibv_get_device_list$descriptor());
    static final ErrnoCall IBV_ALLOC_PD = new ErrnoCall("ibv_alloc_pd",
            Verbs.ibv_alloc_pd$address(), Verbs.ibv_alloc_pd$descriptor());
    static final ErrnoCall IBV_REG_MR = new ErrnoCall("ibv_reg_mr",
            Verbs.ibv_reg_mr$address(), Verbs.ibv_reg_mr$descriptor());
    static final ErrnoCall IBV_CREATE_COMP_CHANNEL = new ErrnoCall("ibv_create_comp_channel",
            Verbs.ibv_create_comp_channel$address(), Verbs.ibv_create_comp_channel$descriptor());
    static final ErrnoCall IBV_CREATE_CQ = new ErrnoCall("ibv_create_cq",
            Verbs.ibv_create_cq$address(), Verbs.ibv_create_cq$descriptor());
    static final ErrnoCall IBV_GET_CQ_EVENT = new ErrnoCall("ibv_get_cq_event",
            Verbs.ibv_get_cq_event$address(), Verbs.ibv_get_cq_event$descriptor());
    static final ErrnoCall RDMA_CREATE_EVENT_CHANNEL = new ErrnoCall("rdma_create_event_channel",
            Verbs.rdma_create_event_channel$address(), Verbs.rdma_create_event_channel$descriptor());
    static final ErrnoCall RDMA_CREATE_ID = new ErrnoCall("rdma_create_id",
            Verbs.rdma_create_id$address(), Verbs.rdma_create_id$descriptor());
    static final ErrnoCall RDMA_DESTROY_ID = new ErrnoCall("rdma_destroy_id",
            Verbs.rdma_destroy_id$address(), Verbs.rdma_destroy_id$descriptor());
    static final ErrnoCall RDMA_BIND_ADDR = new ErrnoCall("rdma_bind_addr",
            Verbs.rdma_bind_addr$address(), Verbs.rdma_bind_addr$descriptor());
    static final ErrnoCall RDMA_RESOLVE_ADDR = new ErrnoCall("rdma_resolve_addr",
            Verbs.rdma_resolve_addr$address(), Verbs.rdma_resolve_addr$descriptor());
    static final ErrnoCall RDMA_RESOLVE_ROUTE = new ErrnoCall("rdma_resolve_route",
            Verbs.rdma_resolve_route$address(), Verbs.rdma_resolve_route$descriptor());
    static final ErrnoCall RDMA_CREATE_QP = new ErrnoCall("rdma_create_qp",
            Verbs.rdma_create_qp$address(), Verbs.rdma_create_qp$descriptor());
    static final ErrnoCall RDMA_CONNECT = new ErrnoCall("rdma_connect",
            Verbs.rdma_connect$address(), Verbs.rdma_connect$descriptor());
    static final ErrnoCall RDMA_LISTEN = new ErrnoCall("rdma_listen",
            Verbs.rdma_listen$address(), Verbs.rdma_listen$descriptor());
    static final ErrnoCall RDMA_ACCEPT = new ErrnoCall("rdma_accept",
            Verbs.rdma_accept$address(), Verbs.rdma_accept$descriptor());
    static final ErrnoCall RDMA_REJECT = new ErrnoCall("rdma_reject",
            Verbs.rdma_reject$address(), Verbs.rdma_reject$descriptor());
    static final ErrnoCall RDMA_DISCONNECT = new ErrnoCall("rdma_disconnect",
            Verbs.rdma_disconnect$address(), Verbs.rdma_disconnect$descriptor());
    static final ErrnoCall RDMA_GET_CM_EVENT = new ErrnoCall("rdma_get_cm_event",
            Verbs.rdma_get_cm_event$address(), Verbs.rdma_get_cm_event$descriptor());
    static final ErrnoCall RDMA_ACK_CM_EVENT = new ErrnoCall("rdma_ack_cm_event",
            Verbs.rdma_ack_cm_event$address(), Verbs.rdma_ack_cm_event$descriptor());

    private Calls() {
    }

    /** For calls that return 0 or an error number (the ibv_destroy_* / ibv_dealloc_* family). */
    static void checkReturnedErrno(String function, int rc) {
        if (rc != 0) {
            throw NativeAccess.failure(function, rc < 0 ? -rc : rc);
        }
    }
}
