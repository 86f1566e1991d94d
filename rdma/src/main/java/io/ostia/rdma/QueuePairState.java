package io.ostia.rdma;

/** State of a queue pair ({@code enum ibv_qp_state}). */
public enum QueuePairState {
    RESET, INIT, READY_TO_RECEIVE, READY_TO_SEND, SEND_QUEUE_DRAINED, SEND_QUEUE_ERROR, ERROR
}
