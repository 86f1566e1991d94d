/*
 * A stand-in verbs provider for tests and benchmarks without RDMA hardware: one ibv_context
 * whose ops table points at the functions below, one QP and one CQ on it. post_send/post_recv
 * record what they receive (interpreted with the real rdma-core header) for the test to read
 * back as plain scalars; every signaled send produces a successful completion, as an HCA would.
 */
#include <infiniband/verbs.h>
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#define RING 1024

static struct ibv_context ctx;
static struct ibv_qp qp;
static struct ibv_cq cq;

static struct ibv_send_wr last_send;
static struct ibv_sge last_send_sges[16];
static struct ibv_qp *last_send_qp;
static struct ibv_recv_wr last_recv;
static struct ibv_sge last_recv_sges[16];
static int post_send_rc, post_recv_rc, notify_rc;
static int notify_calls, notify_solicited;
static long sends;

static struct ibv_wc queued[RING];
static unsigned head, tail;

static void queue_wc(const struct ibv_wc *wc) {
    queued[tail % RING] = *wc;
    tail++;
}

static int fake_post_send(struct ibv_qp *q, struct ibv_send_wr *wr, struct ibv_send_wr **bad) {
    if (post_send_rc) {
        *bad = wr;
        return post_send_rc;
    }
    last_send_qp = q;
    last_send = *wr;
    for (int i = 0; i < wr->num_sge && i < 16; i++)
        last_send_sges[i] = wr->sg_list[i];
    sends++;
    if (wr->send_flags & IBV_SEND_SIGNALED) {
        struct ibv_wc wc = {0};
        wc.wr_id = wr->wr_id;
        wc.status = IBV_WC_SUCCESS;
        wc.opcode = IBV_WC_SEND;
        wc.qp_num = q->qp_num;
        queue_wc(&wc);
    }
    return 0;
}

static int fake_post_recv(struct ibv_qp *q, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad) {
    (void) q;
    if (post_recv_rc) {
        *bad = wr;
        return post_recv_rc;
    }
    last_recv = *wr;
    for (int i = 0; i < wr->num_sge && i < 16; i++)
        last_recv_sges[i] = wr->sg_list[i];
    return 0;
}

static int fake_poll_cq(struct ibv_cq *c, int n, struct ibv_wc *wc) {
    (void) c;
    int done = 0;
    while (done < n && head != tail) {
        wc[done++] = queued[head % RING];
        head++;
    }
    return done;
}

static int fake_req_notify_cq(struct ibv_cq *c, int solicited_only) {
    (void) c;
    notify_calls++;
    notify_solicited = solicited_only;
    return notify_rc;
}

static void init(void) {
    if (ctx.ops.post_send)
        return;
    ctx.ops.post_send = fake_post_send;
    ctx.ops.post_recv = fake_post_recv;
    ctx.ops.poll_cq = fake_poll_cq;
    ctx.ops.req_notify_cq = fake_req_notify_cq;
    qp.context = &ctx;
    qp.qp_num = 0x1234;
    qp.state = IBV_QPS_RTS;
    cq.context = &ctx;
}

struct ibv_qp *fake_qp(void) { init(); return &qp; }
struct ibv_cq *fake_cq(void) { init(); return &cq; }

void fake_reset(void) {
    memset(&last_send, 0, sizeof last_send);
    memset(&last_recv, 0, sizeof last_recv);
    post_send_rc = post_recv_rc = notify_rc = 0;
    notify_calls = notify_solicited = 0;
    sends = 0;
    head = tail = 0;
}

void fake_fail_post_send(int rc) { post_send_rc = rc; }
void fake_fail_post_recv(int rc) { post_recv_rc = rc; }
void fake_fail_notify(int rc) { notify_rc = rc; }

/* A completion with every field set; imm is given in host order and stored big-endian. */
void fake_queue_completion(uint64_t wr_id, int status, int opcode, uint32_t byte_len, uint32_t imm,
                           int wc_flags, uint32_t qp_num, uint32_t vendor_err) {
    struct ibv_wc wc = {0};
    wc.wr_id = wr_id;
    wc.status = status;
    wc.opcode = opcode;
    wc.byte_len = byte_len;
    wc.imm_data = htonl(imm);
    wc.wc_flags = wc_flags;
    wc.qp_num = qp_num;
    wc.vendor_err = vendor_err;
    queue_wc(&wc);
}

long fake_sends(void) { return sends; }
int fake_last_send_qp_is_fake(void) { return last_send_qp == &qp; }
uint64_t fake_send_wr_id(void) { return last_send.wr_id; }
int fake_send_has_next(void) { return last_send.next != NULL; }
int fake_send_num_sge(void) { return last_send.num_sge; }
int fake_send_opcode(void) { return last_send.opcode; }
unsigned fake_send_flags(void) { return last_send.send_flags; }
uint32_t fake_send_imm_host(void) { return ntohl(last_send.imm_data); }
uint64_t fake_send_remote_addr(void) { return last_send.wr.rdma.remote_addr; }
uint32_t fake_send_rkey(void) { return last_send.wr.rdma.rkey; }
uint64_t fake_send_sge_addr(int i) { return last_send_sges[i].addr; }
uint32_t fake_send_sge_length(int i) { return last_send_sges[i].length; }
uint32_t fake_send_sge_lkey(int i) { return last_send_sges[i].lkey; }
uint64_t fake_recv_wr_id(void) { return last_recv.wr_id; }
int fake_recv_num_sge(void) { return last_recv.num_sge; }
uint64_t fake_recv_sge_addr(int i) { return last_recv_sges[i].addr; }
uint32_t fake_recv_sge_length(int i) { return last_recv_sges[i].length; }
uint32_t fake_recv_sge_lkey(int i) { return last_recv_sges[i].lkey; }
int fake_notify_calls(void) { return notify_calls; }
int fake_notify_solicited(void) { return notify_solicited; }

/* A pipe for testing the poll(2) binding the completion and event channels wait with. */
static int pipe_fds[2] = {-1, -1};
int fake_pipe_read_fd(void) {
    if (pipe_fds[0] < 0 && pipe(pipe_fds) != 0)
        return -1;
    return pipe_fds[0];
}
int fake_pipe_write(void) { return (int) write(pipe_fds[1], "x", 1); }
int fake_pipe_drain(void) { char c; return (int) read(pipe_fds[0], &c, 1); }
