/*
 * The loop DataPathBenchmark measures, in C: fill an ibv_send_wr, ibv_post_send, ibv_poll_cq and
 * read the completion's fields, against the same stand-in provider (fakeverbs.c).
 * Prints the mean and the best of five runs in ns per operation (JMH reports its iterations alike).
 */
#include <infiniband/verbs.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct ibv_qp *fake_qp(void);
struct ibv_cq *fake_cq(void);

static volatile uint64_t sink;

static double run(struct ibv_qp *qp, struct ibv_cq *cq, long ops) {
    struct ibv_sge sge = {.addr = 0x200000, .length = 4096, .lkey = 0x1234};
    struct ibv_send_wr wr = {0}, *bad;
    struct ibv_wc wc[16];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 1; i <= ops; i++) {
        wr.wr_id = i;
        wr.next = NULL;
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.opcode = IBV_WR_SEND;
        wr.send_flags = IBV_SEND_SIGNALED;
        wr.imm_data = htobe32(7);
        wr.wr.rdma.remote_addr = 0x10000;
        wr.wr.rdma.rkey = 0x42;
        if (ibv_post_send(qp, &wr, &bad)) {
            fprintf(stderr, "ibv_post_send failed\n");
            exit(1);
        }
        int n = ibv_poll_cq(cq, 16, wc);
        if (n != 1 || wc[0].wr_id != (uint64_t) i) {
            fprintf(stderr, "unexpected completion\n");
            exit(1);
        }
        sink += wc[0].wr_id + wc[0].status + wc[0].opcode + wc[0].byte_len + wc[0].wc_flags
                + (wc[0].wc_flags & IBV_WC_WITH_IMM ? be32toh(wc[0].imm_data) : 0) + wc[0].qp_num + wc[0].vendor_err;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    return ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / ops;
}

int main(int argc, char **argv) {
    long ops = argc > 1 ? atol(argv[1]) : 20000000L;
    struct ibv_qp *qp = fake_qp();
    struct ibv_cq *cq = fake_cq();
    run(qp, cq, ops / 4); /* warm-up */
    double best = 0, sum = 0;
    for (int r = 0; r < 5; r++) {
        double t = run(qp, cq, ops);
        sum += t;
        if (r == 0 || t < best)
            best = t;
    }
    printf("c_loop: mean %.2f best %.2f ns/op\n", sum / 5, best);
    return 0;
}
