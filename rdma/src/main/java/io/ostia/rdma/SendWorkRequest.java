package io.ostia.rdma;

import java.util.Objects;

/**
 * A send-queue work request ({@code struct ibv_send_wr}): Send, RDMA Write or RDMA Read.
 * Mutable and reusable so that a steady data path allocates nothing; the queue pair copies it
 * when posted, so it may be refilled as soon as {@link QueuePair#postSend} returns. Not safe for
 * concurrent mutation.
 */
public final class SendWorkRequest {
    private final ScatterGatherList sgl = new ScatterGatherList();
    private long wrId;
    private SendOpcode opcode = SendOpcode.SEND;
    private boolean signaled = true;
    private boolean solicited;
    private int immediateData;
    private long remoteAddress;
    private int rkey;

    /** Resets to a signaled, empty SEND with id 0. */
    public SendWorkRequest reset() {
        sgl.clear();
        wrId = 0;
        opcode = SendOpcode.SEND;
        signaled = true;
        solicited = false;
        immediateData = 0;
        remoteAddress = 0;
        rkey = 0;
        return this;
    }

    public SendWorkRequest wrId(long id) {
        this.wrId = id;
        return this;
    }

    public SendWorkRequest opcode(SendOpcode op) {
        this.opcode = Objects.requireNonNull(op, "opcode");
        return this;
    }

    /** Whether a successful completion is reported (errors always are). */
    public SendWorkRequest signaled(boolean value) {
        this.signaled = value;
        return this;
    }

    /** Whether the peer's solicited-only notification fires for the matching receive. */
    public SendWorkRequest solicited(boolean value) {
        this.solicited = value;
        return this;
    }

    /** Immediate data for the {@code *_WITH_IMMEDIATE} opcodes, in host order. */
    public SendWorkRequest immediateData(int value) {
        this.immediateData = value;
        return this;
    }

    /** Target of an RDMA Write or RDMA Read: remote virtual address and the region's rkey. */
    public SendWorkRequest remote(long address, int remoteKey) {
        this.remoteAddress = address;
        this.rkey = remoteKey;
        return this;
    }

    /** Adds a local buffer; see {@link ScatterGatherList#add(MemoryRegion, long, int)}. */
    public SendWorkRequest add(MemoryRegion region, long offset, int length) {
        sgl.add(region, offset, length);
        return this;
    }

    public ScatterGatherList scatterGather() {
        return sgl;
    }

    public long wrId() {
        return wrId;
    }

    public SendOpcode opcode() {
        return opcode;
    }

    public boolean signaled() {
        return signaled;
    }

    public boolean solicited() {
        return solicited;
    }

    public int immediateData() {
        return immediateData;
    }

    public long remoteAddress() {
        return remoteAddress;
    }

    public int rkey() {
        return rkey;
    }
}
