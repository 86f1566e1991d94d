package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.ReceiveWorkRequest;
import io.ostia.rdma.ScatterGatherList;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.ffm.gen.ibv_qp;
import io.ostia.rdma.internal.ffm.gen.ibv_cq;
import io.ostia.rdma.internal.ffm.gen.ibv_recv_wr;
import io.ostia.rdma.internal.ffm.gen.ibv_send_wr;
import io.ostia.rdma.internal.ffm.gen.ibv_sge;
import io.ostia.rdma.internal.ffm.gen.ibv_wc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * The verbs data path of one queue pair and its completion queues: work requests are encoded
 * into native structs allocated once, and completions decoded from a native array allocated
 * once, so posting and polling allocate nothing. Not thread-safe: the owner serialises posting
 * and polling separately.
 */
public final class DataPath {
    /** Completions fetched per ibv_poll_cq call. */
    public static final int POLL_BATCH = 16;
    private static final int IBV_SEND_SIGNALED = 1 << 1;
    private static final int IBV_SEND_SOLICITED = 1 << 2;
    private static final int IBV_WC_WITH_IMM = 1 << 1;
    private static final long SGE_SIZE = ibv_sge.layout().byteSize();
    private static final long WC_SIZE = ibv_wc.layout().byteSize();
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    /** Posts work requests to one {@code struct ibv_qp}. */
    public static final class Poster {
        private final MemorySegment qp;
        private final NativeAccess.ContextOps ops;
        private final MemorySegment sendWr;
        private final MemorySegment sendSges;
        private final MemorySegment recvWr;
        private final MemorySegment recvSges;
        private final MemorySegment sendRdma;
        private final MemorySegment badWr;

        /** For the queue pair at {@code qpPointer}; buffers come from {@code arena}. */
        public Poster(MemorySegment qpPointer, Arena arena) {
            this.qp = NativeAccess.struct(qpPointer, ibv_qp.layout());
            this.ops = NativeAccess.ContextOps.of(ibv_qp.context(qp));
            this.sendWr = arena.allocate(ibv_send_wr.layout());
            this.recvWr = arena.allocate(ibv_recv_wr.layout());
            this.sendSges = ibv_sge.allocateArray(ScatterGatherList.MAX_ENTRIES, arena);
            this.recvSges = ibv_sge.allocateArray(ScatterGatherList.MAX_ENTRIES, arena);
            this.badWr = arena.allocate(ADDRESS);
            ibv_send_wr.sg_list(sendWr, sendSges);
            ibv_recv_wr.sg_list(recvWr, recvSges);
            this.sendRdma = ibv_send_wr.wr.rdma(ibv_send_wr.wr(sendWr));
        }

        /** {@code ibv_post_send}: 0, or the error number it returned. */
        public int postSend(SendWorkRequest request) {
            ScatterGatherList sgl = request.scatterGather();
            ibv_send_wr.wr_id(sendWr, request.wrId());
            ibv_send_wr.num_sge(sendWr, encode(sgl, sendSges));
            ibv_send_wr.opcode(sendWr, request.opcode().verbsCode());
            ibv_send_wr.send_flags(sendWr, (request.signaled() ? IBV_SEND_SIGNALED : 0) | (request.solicited() ? IBV_SEND_SOLICITED : 0));
            ibv_send_wr.imm_data(sendWr, toNetworkOrder(request.immediateData()));
            ibv_send_wr.wr.rdma.remote_addr(sendRdma, request.remoteAddress());
            ibv_send_wr.wr.rdma.rkey(sendRdma, request.rkey());
            return NativeAccess.postSend(ops.postSend(), qp, sendWr, badWr);
        }

        /** {@code ibv_post_recv}: 0, or the error number it returned. */
        public int postReceive(ReceiveWorkRequest request) {
            ibv_recv_wr.wr_id(recvWr, request.wrId());
            ibv_recv_wr.num_sge(recvWr, encode(request.scatterGather(), recvSges));
            return NativeAccess.postRecv(ops.postRecv(), qp, recvWr, badWr);
        }

        private static int encode(ScatterGatherList sgl, MemorySegment sges) {
            int n = sgl.count();
            // Offsets rather than per-entry slices: no allocation on the data path.
            for (int i = 0; i < n; i++) {
                long base = i * SGE_SIZE;
                sges.set(ibv_sge.addr$layout(), base + ibv_sge.addr$offset(), sgl.address(i));
                sges.set(ibv_sge.length$layout(), base + ibv_sge.length$offset(), sgl.length(i));
                sges.set(ibv_sge.lkey$layout(), base + ibv_sge.lkey$offset(), sgl.lkey(i));
            }
            return n;
        }
    }

    /** Polls and arms one {@code struct ibv_cq}. */
    public static final class Poller {
        private final MemorySegment cq;
        private final NativeAccess.ContextOps ops;
        private final MemorySegment wcs;

        public Poller(MemorySegment cqPointer, Arena arena) {
            this.cq = NativeAccess.struct(cqPointer, ibv_cq.layout());
            this.ops = NativeAccess.ContextOps.of(ibv_cq.context(cq));
            this.wcs = ibv_wc.allocateArray(POLL_BATCH, arena);
        }

        /**
         * {@code ibv_poll_cq} into the holders from {@code offset} on, at most {@link #POLL_BATCH}.
         *
         * @return completions filled, or a negative number if the provider failed
         */
        public int poll(WorkCompletion[] into, int offset) {
            int max = Math.min(into.length - offset, POLL_BATCH);
            int n = NativeAccess.pollCq(ops.pollCq(), cq, max, wcs);
            for (int i = 0; i < n; i++) {
                long base = i * WC_SIZE;
                boolean hasImm = (wcs.get(ibv_wc.wc_flags$layout(), base + ibv_wc.wc_flags$offset()) & IBV_WC_WITH_IMM) != 0;
                into[offset + i].set(wcs.get(ibv_wc.wr_id$layout(), base + ibv_wc.wr_id$offset()),
                        WorkCompletionStatus.fromVerbsCode(wcs.get(ibv_wc.status$layout(), base + ibv_wc.status$offset())),
                        WorkCompletionOpcode.fromVerbsCode(wcs.get(ibv_wc.opcode$layout(), base + ibv_wc.opcode$offset())),
                        wcs.get(ibv_wc.byte_len$layout(), base + ibv_wc.byte_len$offset()),
                        hasImm,
                        hasImm ? toNetworkOrder(wcs.get(ibv_wc.imm_data$layout(), base + ibv_wc.imm_data$offset())) : 0,
                        wcs.get(ibv_wc.qp_num$layout(), base + ibv_wc.qp_num$offset()),
                        wcs.get(ibv_wc.vendor_err$layout(), base + ibv_wc.vendor_err$offset()));
            }
            return n;
        }

        /** {@code ibv_req_notify_cq}: 0, or the error number it returned. */
        public int requestNotification(boolean solicitedOnly) {
            return NativeAccess.reqNotifyCq(ops.reqNotifyCq(), cq, solicitedOnly ? 1 : 0);
        }
    }

    private DataPath() {
    }

    /** Immediate data is big-endian ({@code __be32}) in the structs; the API speaks host order. */
    static int toNetworkOrder(int value) {
        return LITTLE_ENDIAN ? Integer.reverseBytes(value) : value;
    }
}
