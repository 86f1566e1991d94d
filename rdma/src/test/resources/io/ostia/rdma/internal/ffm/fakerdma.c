/*
 * A stand-in for libibverbs + librdmacm, for running the native provider end to end without
 * RDMA hardware: one device ("fake0") owning 127.0.0.1, an in-process rdma_cm (event channels
 * are pipes, events are queued per channel) and an in-process RC data path (copies between
 * registered regions, with rkey and bounds checks, receiver-not-ready waits, flush on error and
 * completion channels that wake poll(2)). Only what the provider calls is implemented. Where
 * semantics matter it does what rdma-core 44 on Soft-RoCE (rxe, Linux 6.1) does: private data
 * padded to the CM message's size, disconnect as request and reply, each side's RNR retry count
 * applied to the other side's queue pair, receives posted in error left uncompleted.
 * All state is guarded by one mutex; rdma_get_cm_event and ibv_get_cq_event block on their
 * pipe outside it.
 */
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_QUEUE 256
#define MAX_SGE 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- device ---- */

static struct ibv_device device = {.name = "fake0"};
static struct ibv_context context;
static int fake_post_send(struct ibv_qp *, struct ibv_send_wr *, struct ibv_send_wr **);
static int fake_post_recv(struct ibv_qp *, struct ibv_recv_wr *, struct ibv_recv_wr **);
static int fake_poll_cq(struct ibv_cq *, int, struct ibv_wc *);
static int fake_req_notify_cq(struct ibv_cq *, int);

/* The context's async event descriptor: a pipe carrying event types (fake_async_event writes one). */
static int async_pipe[2] = {-1, -1};
static int async_acks;
static pthread_once_t context_once = PTHREAD_ONCE_INIT;

static void make_context(void) {
    context.device = &device;
    context.ops.post_send = fake_post_send;
    context.ops.post_recv = fake_post_recv;
    context.ops.poll_cq = fake_poll_cq;
    context.ops.req_notify_cq = fake_req_notify_cq;
    context.async_fd = pipe(async_pipe) == 0 ? async_pipe[0] : -1;
}

static void init_context(void) { pthread_once(&context_once, make_context); }

int ibv_get_async_event(struct ibv_context *ctx, struct ibv_async_event *event) {
    int type;
    ssize_t n = read(ctx->async_fd, &type, sizeof type);
    if (n != (ssize_t) sizeof type) {
        if (n >= 0)
            errno = EIO;
        return -1; /* EAGAIN when the descriptor is non-blocking and empty */
    }
    memset(event, 0, sizeof *event);
    event->event_type = (enum ibv_event_type) type;
    return 0;
}

void ibv_ack_async_event(struct ibv_async_event *event) {
    (void) event;
    pthread_mutex_lock(&lock);
    async_acks++;
    pthread_mutex_unlock(&lock);
}

/* For tests: queue an async event of this type on the context; count the acknowledged ones. */
void fake_async_event(int type) {
    init_context();
    if (write(async_pipe[1], &type, sizeof type) != (ssize_t) sizeof type)
        abort();
}

int fake_async_acks(void) {
    pthread_mutex_lock(&lock);
    int n = async_acks;
    pthread_mutex_unlock(&lock);
    return n;
}

/*
 * Whether the device is listed (fake_device_present). Absent, it is in no list and librdmacm's
 * rdma_get_devices fails with ENODEV (as librdmacm's sync does when no device at all is left);
 * present again, it is a new device whose context has the old one's address: the address reuse
 * of a context librdmacm freed and opened anew.
 */
static int present = 1;

void fake_device_present(int yes) {
    pthread_mutex_lock(&lock);
    present = yes;
    pthread_mutex_unlock(&lock);
}

static int device_listed(void) {
    pthread_mutex_lock(&lock);
    int yes = present;
    pthread_mutex_unlock(&lock);
    return yes;
}

struct ibv_device **ibv_get_device_list(int *num) {
    struct ibv_device **list = calloc(2, sizeof *list);
    if (!list) {
        errno = ENOMEM;
        return NULL;
    }
    int n = device_listed();
    list[0] = n ? &device : NULL;
    if (num)
        *num = n;
    return list;
}

void ibv_free_device_list(struct ibv_device **list) { free(list); }

const char *ibv_get_device_name(struct ibv_device *dev) { return dev->name; }

/* librdmacm's device contexts: each list returned holds a reference on every context in it. */
static int device_references;

struct ibv_context **rdma_get_devices(int *num) {
    if (!device_listed()) {
        errno = ENODEV;
        return NULL;
    }
    struct ibv_context **list = calloc(2, sizeof *list);
    if (!list) {
        errno = ENOMEM;
        return NULL;
    }
    init_context();
    list[0] = &context;
    pthread_mutex_lock(&lock);
    device_references++;
    pthread_mutex_unlock(&lock);
    if (num)
        *num = 1;
    return list;
}

void rdma_free_devices(struct ibv_context **list) {
    pthread_mutex_lock(&lock);
    for (int i = 0; list[i]; i++)
        device_references--;
    pthread_mutex_unlock(&lock);
    free(list);
}

/* For tests: references held by rdma_get_devices lists not yet freed. */
int fake_device_references(void) {
    pthread_mutex_lock(&lock);
    int n = device_references;
    pthread_mutex_unlock(&lock);
    return n;
}

int ibv_query_device(struct ibv_context *ctx, struct ibv_device_attr *attr) {
    (void) ctx;
    memset(attr, 0, sizeof *attr);
    attr->max_qp_wr = 16384;
    attr->max_sge = MAX_SGE;
    attr->max_cqe = 65536;
    attr->max_mr_size = ~0ULL;
    return 0;
}

/* ---- protection domains and memory regions ---- */

#define MAX_MR 256
static struct ibv_mr *regions[MAX_MR];
static uint32_t next_key = 0x1000;

struct ibv_pd *ibv_alloc_pd(struct ibv_context *ctx) {
    struct ibv_pd *pd = calloc(1, sizeof *pd);
    if (!pd) {
        errno = ENOMEM;
        return NULL;
    }
    pd->context = ctx;
    return pd;
}

int ibv_dealloc_pd(struct ibv_pd *pd) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_MR; i++) {
        if (regions[i] && regions[i]->pd == pd) {
            pthread_mutex_unlock(&lock);
            return EBUSY;
        }
    }
    pthread_mutex_unlock(&lock);
    free(pd);
    return 0;
}

#undef ibv_reg_mr /* verbs.h maps it to an inline wrapper; the library symbol is this */
struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access) {
    if ((access & IBV_ACCESS_REMOTE_WRITE) && !(access & IBV_ACCESS_LOCAL_WRITE)) {
        errno = EINVAL;
        return NULL;
    }
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_MR; i++) {
        if (!regions[i]) {
            struct ibv_mr *mr = calloc(1, sizeof *mr);
            mr->context = pd->context;
            mr->pd = pd;
            mr->addr = addr;
            mr->length = length;
            mr->lkey = next_key++;
            mr->rkey = 0x50000000 | next_key++;
            mr->handle = access; /* the stand-in keeps the access flags here */
            regions[i] = mr;
            pthread_mutex_unlock(&lock);
            return mr;
        }
    }
    pthread_mutex_unlock(&lock);
    errno = ENOMEM;
    return NULL;
}

int ibv_dereg_mr(struct ibv_mr *mr) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_MR; i++)
        if (regions[i] == mr)
            regions[i] = NULL;
    pthread_mutex_unlock(&lock);
    free(mr);
    return 0;
}

/* A region of pd with this key covering [addr, addr+len) and the access bits, or NULL. */
static struct ibv_mr *find_region(struct ibv_pd *pd, uint32_t key, int remote, uint64_t addr, uint64_t len, int access) {
    for (int i = 0; i < MAX_MR; i++) {
        struct ibv_mr *mr = regions[i];
        if (!mr || mr->pd != pd || (remote ? mr->rkey : mr->lkey) != key)
            continue;
        uint64_t start = (uint64_t) (uintptr_t) mr->addr;
        if (addr < start || addr - start > mr->length || len > mr->length - (addr - start))
            return NULL;
        if ((int) (mr->handle & access) != access)
            return NULL;
        return mr;
    }
    return NULL;
}

/* ---- completion channels and queues ---- */

struct fake_channel {
    struct ibv_comp_channel channel; /* first: the provider sees this */
    int write_fd;
};

struct fake_cq {
    struct ibv_cq cq; /* first */
    struct ibv_wc ring[MAX_QUEUE];
    unsigned head, tail;
    int armed, solicited_only;
    /* Events read by ibv_get_cq_event and acknowledged: libibverbs' destroy waits until they match. */
    unsigned events_read, events_acked;
};

struct ibv_comp_channel *ibv_create_comp_channel(struct ibv_context *ctx) {
    int fds[2];
    struct fake_channel *c = calloc(1, sizeof *c);
    if (!c || pipe(fds) != 0) {
        free(c);
        errno = EMFILE;
        return NULL;
    }
    c->channel.context = ctx;
    c->channel.fd = fds[0];
    c->write_fd = fds[1];
    return &c->channel;
}

int ibv_destroy_comp_channel(struct ibv_comp_channel *channel) {
    struct fake_channel *c = (struct fake_channel *) channel;
    close(c->channel.fd);
    close(c->write_fd);
    free(c);
    return 0;
}

struct ibv_cq *ibv_create_cq(struct ibv_context *ctx, int cqe, void *cq_context, struct ibv_comp_channel *channel, int vector) {
    (void) vector;
    if (cqe < 1 || cqe > MAX_QUEUE) {
        errno = EINVAL;
        return NULL;
    }
    struct fake_cq *f = calloc(1, sizeof *f);
    f->cq.context = ctx;
    f->cq.channel = channel;
    f->cq.cq_context = cq_context;
    f->cq.cqe = cqe;
    return &f->cq;
}

int ibv_destroy_cq(struct ibv_cq *cq) {
    struct fake_cq *f = (struct fake_cq *) cq;
    /* The real destroy would block forever on an unacknowledged event: fail instead, visibly. */
    if (f->events_acked != f->events_read)
        return EBUSY;
    free(cq);
    return 0;
}

int ibv_get_cq_event(struct ibv_comp_channel *channel, struct ibv_cq **cq, void **cq_context) {
    struct ibv_cq *which;
    if (read(channel->fd, &which, sizeof which) != sizeof which) {
        errno = EIO;
        return -1;
    }
    *cq = which;
    *cq_context = which->cq_context;
    ((struct fake_cq *) which)->events_read++;
    return 0;
}

void ibv_ack_cq_events(struct ibv_cq *cq, unsigned int nevents) {
    struct fake_cq *f = (struct fake_cq *) cq;
    if (f->events_acked + nevents > f->events_read)
        abort(); /* more acknowledged than read: libibverbs' count would go wrong */
    f->events_acked += nevents;
}

/* Adds a completion (lock held) and raises the armed notification. */
static void complete(struct ibv_cq *cq, uint64_t wr_id, enum ibv_wc_status status, enum ibv_wc_opcode opcode,
                     uint32_t byte_len, int with_imm, uint32_t imm_be, uint32_t qp_num, int solicited) {
    struct fake_cq *f = (struct fake_cq *) cq;
    struct ibv_wc *wc = &f->ring[f->tail % MAX_QUEUE];
    memset(wc, 0, sizeof *wc);
    wc->wr_id = wr_id;
    wc->status = status;
    wc->opcode = opcode;
    wc->byte_len = byte_len;
    wc->wc_flags = with_imm ? IBV_WC_WITH_IMM : 0;
    wc->imm_data = imm_be;
    wc->qp_num = qp_num;
    f->tail++;
    if (f->armed && (!f->solicited_only || solicited || status != IBV_WC_SUCCESS)) {
        f->armed = 0;
        struct fake_channel *c = (struct fake_channel *) cq->channel;
        if (write(c->write_fd, &cq, sizeof cq) != sizeof cq)
            abort();
    }
}

static int fake_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc) {
    struct fake_cq *f = (struct fake_cq *) cq;
    int done = 0;
    pthread_mutex_lock(&lock);
    while (done < n && f->head != f->tail) {
        wc[done++] = f->ring[f->head % MAX_QUEUE];
        f->head++;
    }
    pthread_mutex_unlock(&lock);
    return done;
}

static int fake_req_notify_cq(struct ibv_cq *cq, int solicited_only) {
    struct fake_cq *f = (struct fake_cq *) cq;
    pthread_mutex_lock(&lock);
    f->armed = 1;
    f->solicited_only = solicited_only;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* ---- queue pairs and the data path ---- */

struct pending_send {
    struct ibv_send_wr wr;
    struct ibv_sge sge[MAX_SGE];
};

struct pending_recv {
    uint64_t wr_id;
    int num_sge;
    struct ibv_sge sge[MAX_SGE];
};

struct fake_qp {
    struct ibv_qp qp; /* first */
    struct fake_qp *peer;
    uint8_t rnr_retry;
    struct pending_send sends[MAX_QUEUE];
    unsigned send_head, send_tail;
    struct pending_recv recvs[MAX_QUEUE];
    unsigned recv_head, recv_tail;
};

static uint32_t next_qp_num = 0x100;

static void flush(struct fake_qp *q) {
    q->qp.state = IBV_QPS_ERR;
    while (q->send_head != q->send_tail) {
        struct pending_send *s = &q->sends[q->send_head++ % MAX_QUEUE];
        complete(q->qp.send_cq, s->wr.wr_id, IBV_WC_WR_FLUSH_ERR, 0, 0, 0, 0, q->qp.qp_num, 0);
    }
    while (q->recv_head != q->recv_tail) {
        struct pending_recv *r = &q->recvs[q->recv_head++ % MAX_QUEUE];
        complete(q->qp.recv_cq, r->wr_id, IBV_WC_WR_FLUSH_ERR, 0, 0, 0, 0, q->qp.qp_num, 0);
    }
}

static uint64_t total(const struct ibv_sge *sge, int n) {
    uint64_t t = 0;
    for (int i = 0; i < n; i++)
        t += sge[i].length;
    return t;
}

static int local_ok(struct ibv_pd *pd, const struct ibv_sge *sge, int n, int access) {
    for (int i = 0; i < n; i++)
        if (!find_region(pd, sge[i].lkey, 0, sge[i].addr, sge[i].length, access))
            return 0;
    return 1;
}

/* Copies between a flat buffer and a scatter/gather list; to_sges chooses the direction. */
static void copy_sges(char *flat, const struct ibv_sge *sge, int n, uint64_t len, int to_sges) {
    uint64_t off = 0;
    for (int i = 0; i < n && off < len; i++) {
        uint64_t part = sge[i].length < len - off ? sge[i].length : len - off;
        char *p = (char *) (uintptr_t) sge[i].addr;
        if (to_sges)
            memcpy(p, flat + off, part);
        else
            memcpy(flat + off, p, part);
        off += part;
    }
}

static void fail(struct fake_qp *q, struct pending_send *s, enum ibv_wc_status status, int responder_too) {
    q->send_head++;
    complete(q->qp.send_cq, s->wr.wr_id, status, 0, 0, 0, 0, q->qp.qp_num, 0);
    if (responder_too && q->peer)
        flush(q->peer);
    flush(q);
}

/* Executes queued sends in order; stops when one waits for a receive at the peer. */
static void pump(struct fake_qp *q) {
    while (q->qp.state == IBV_QPS_RTS && q->send_head != q->send_tail) {
        struct pending_send *s = &q->sends[q->send_head % MAX_QUEUE];
        struct ibv_send_wr *wr = &s->wr;
        struct fake_qp *r = q->peer;
        uint64_t len = total(s->sge, wr->num_sge);
        int reads = wr->opcode == IBV_WR_RDMA_READ;
        if (!local_ok(q->qp.pd, s->sge, wr->num_sge, reads ? IBV_ACCESS_LOCAL_WRITE : 0)) {
            fail(q, s, IBV_WC_LOC_PROT_ERR, 0);
            continue;
        }
        if (!r || r->qp.state != IBV_QPS_RTS) {
            fail(q, s, IBV_WC_RETRY_EXC_ERR, 0);
            continue;
        }
        struct ibv_mr *target = NULL;
        if (wr->opcode == IBV_WR_RDMA_WRITE || wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM || reads) {
            target = find_region(r->qp.pd, wr->wr.rdma.rkey, 1, wr->wr.rdma.remote_addr, len,
                                 reads ? IBV_ACCESS_REMOTE_READ : IBV_ACCESS_REMOTE_WRITE);
            if (!target) {
                fail(q, s, IBV_WC_REM_ACCESS_ERR, 1);
                continue;
            }
        }
        struct pending_recv *recv = NULL;
        int consumes = wr->opcode == IBV_WR_SEND || wr->opcode == IBV_WR_SEND_WITH_IMM || wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM;
        if (consumes) {
            if (r->recv_head == r->recv_tail) {
                if (q->rnr_retry == 7)
                    return;
                fail(q, s, IBV_WC_RNR_RETRY_EXC_ERR, 0);
                continue;
            }
            recv = &r->recvs[r->recv_head % MAX_QUEUE];
            if (wr->opcode != IBV_WR_RDMA_WRITE_WITH_IMM && total(recv->sge, recv->num_sge) < len) {
                r->recv_head++;
                complete(r->qp.recv_cq, recv->wr_id, IBV_WC_LOC_LEN_ERR, 0, 0, 0, 0, r->qp.qp_num, 0);
                flush(r);
                fail(q, s, IBV_WC_REM_INV_REQ_ERR, 0);
                continue;
            }
            r->recv_head++;
        }
        char *staging = malloc(len ? len : 1);
        enum ibv_wc_opcode done_op = IBV_WC_SEND;
        if (reads) {
            memcpy(staging, (char *) (uintptr_t) wr->wr.rdma.remote_addr, len);
            copy_sges(staging, s->sge, wr->num_sge, len, 1);
            done_op = IBV_WC_RDMA_READ;
        } else {
            copy_sges(staging, s->sge, wr->num_sge, len, 0);
            if (target) {
                memcpy((char *) (uintptr_t) wr->wr.rdma.remote_addr, staging, len);
                done_op = IBV_WC_RDMA_WRITE;
            } else {
                copy_sges(staging, recv->sge, recv->num_sge, len, 1);
            }
        }
        free(staging);
        if (recv) {
            int imm = wr->opcode == IBV_WR_SEND_WITH_IMM || wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM;
            complete(r->qp.recv_cq, recv->wr_id, IBV_WC_SUCCESS,
                     wr->opcode == IBV_WR_RDMA_WRITE_WITH_IMM ? IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV,
                     (uint32_t) len, imm, wr->imm_data, r->qp.qp_num, wr->send_flags & IBV_SEND_SOLICITED);
        }
        q->send_head++;
        if (wr->send_flags & IBV_SEND_SIGNALED)
            complete(q->qp.send_cq, wr->wr_id, IBV_WC_SUCCESS, done_op, reads ? (uint32_t) len : 0, 0, 0, q->qp.qp_num, 0);
    }
}

static int fake_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad) {
    struct fake_qp *q = (struct fake_qp *) qp;
    pthread_mutex_lock(&lock);
    if (qp->state != IBV_QPS_RTS && qp->state != IBV_QPS_ERR) {
        pthread_mutex_unlock(&lock);
        *bad = wr;
        return EINVAL;
    }
    if (wr->num_sge > MAX_SGE || q->send_tail - q->send_head >= MAX_QUEUE) {
        pthread_mutex_unlock(&lock);
        *bad = wr;
        return ENOMEM;
    }
    if (qp->state == IBV_QPS_ERR) {
        /* A send posted in error flushes at once; the receives stay as they are. */
        complete(qp->send_cq, wr->wr_id, IBV_WC_WR_FLUSH_ERR, 0, 0, 0, 0, qp->qp_num, 0);
        pthread_mutex_unlock(&lock);
        return 0;
    }
    struct pending_send *s = &q->sends[q->send_tail++ % MAX_QUEUE];
    s->wr = *wr;
    s->wr.next = NULL;
    memcpy(s->sge, wr->sg_list, wr->num_sge * sizeof *s->sge);
    s->wr.sg_list = s->sge;
    pump(q);
    pthread_mutex_unlock(&lock);
    return 0;
}

static int fake_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad) {
    struct fake_qp *q = (struct fake_qp *) qp;
    pthread_mutex_lock(&lock);
    if (wr->num_sge > MAX_SGE || q->recv_tail - q->recv_head >= MAX_QUEUE) {
        pthread_mutex_unlock(&lock);
        *bad = wr;
        return ENOMEM;
    }
    struct pending_recv *r = &q->recvs[q->recv_tail++ % MAX_QUEUE];
    r->wr_id = wr->wr_id;
    r->num_sge = wr->num_sge;
    memcpy(r->sge, wr->sg_list, wr->num_sge * sizeof *r->sge);
    /* In error a receive stays queued and never completes, as on rxe. */
    if (qp->state == IBV_QPS_RTS && q->peer)
        pump(q->peer);
    pthread_mutex_unlock(&lock);
    return 0;
}

int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask) {
    pthread_mutex_lock(&lock);
    if (mask & IBV_QP_STATE) {
        if (attr->qp_state == IBV_QPS_ERR && qp->state != IBV_QPS_ERR)
            flush((struct fake_qp *) qp);
        qp->state = attr->qp_state;
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* ---- connection manager ---- */

struct fake_event {
    struct rdma_cm_event event; /* first: what rdma_get_cm_event hands out */
    uint8_t data[256];
    struct fake_event *next;
};

struct fake_event_channel {
    struct rdma_event_channel channel; /* first */
    int write_fd;
    struct fake_event *head, *tail;
};

/* DREQ_SENT waits for the peer's answer; DREQ_RCVD was told DISCONNECTED and owes one (IB CM). */
enum id_state { IDLE, ADDR_RESOLVED, ROUTE_RESOLVED, LISTENING, REQUESTED, CONNECTING, CONNECTED, DREQ_SENT, DREQ_RCVD, DOWN };

/* Sizes of the private-data fields of the CM messages, as rdma_cm (port space TCP) delivers them. */
enum { REQ_PRIVATE_DATA = 56, REP_PRIVATE_DATA = 196, REJ_PRIVATE_DATA = 148 };

struct fake_id {
    struct rdma_cm_id id; /* first */
    enum id_state state;
    uint8_t connect_rnr_retry; /* given to rdma_connect: governs the peer's sends */
    struct fake_id *peer;
    struct fake_id *next_listener;
};

static struct fake_id *listeners;
static uint16_t next_port = 50000;

struct rdma_event_channel *rdma_create_event_channel(void) {
    int fds[2];
    struct fake_event_channel *c = calloc(1, sizeof *c);
    if (!c || pipe(fds) != 0) {
        free(c);
        errno = EMFILE;
        return NULL;
    }
    c->channel.fd = fds[0];
    c->write_fd = fds[1];
    return &c->channel;
}

void rdma_destroy_event_channel(struct rdma_event_channel *channel) {
    struct fake_event_channel *c = (struct fake_event_channel *) channel;
    close(c->channel.fd);
    close(c->write_fd);
    while (c->head) {
        struct fake_event *e = c->head;
        c->head = e->next;
        free(e);
    }
    free(c);
}

/* Queues an event on the id's channel (lock held); the private data is delivered as size bytes. */
static void post_event(struct fake_id *f, struct fake_id *listen, enum rdma_cm_event_type type, int status,
                       const void *data, uint8_t len, uint8_t size) {
    struct fake_event_channel *c = (struct fake_event_channel *) (listen ? listen->id.channel : f->id.channel);
    struct fake_event *e = calloc(1, sizeof *e);
    e->event.id = &f->id;
    e->event.listen_id = listen ? &listen->id : NULL;
    e->event.event = type;
    e->event.status = status;
    if (size) {
        if (len)
            memcpy(e->data, data, len < size ? len : size);
        e->event.param.conn.private_data = e->data;
        e->event.param.conn.private_data_len = size;
    }
    if (c->tail)
        c->tail->next = e;
    else
        c->head = e;
    c->tail = e;
    char b = 1;
    if (write(c->write_fd, &b, 1) != 1)
        abort();
}

/*
 * One byte in the pipe announces each event. An event dropped with its id leaves its byte: the
 * call then waits for the next event, as the kernel does, or fails with EAGAIN when the channel
 * is non-blocking and nothing else is queued.
 */
int rdma_get_cm_event(struct rdma_event_channel *channel, struct rdma_cm_event **event) {
    struct fake_event_channel *c = (struct fake_event_channel *) channel;
    for (;;) {
        char b;
        ssize_t n = read(c->channel.fd, &b, 1);
        if (n != 1) {
            if (n == 0 || errno != EAGAIN)
                errno = EIO;
            return -1;
        }
        pthread_mutex_lock(&lock);
        struct fake_event *e = c->head;
        if (e) {
            c->head = e->next;
            if (!c->head)
                c->tail = NULL;
            pthread_mutex_unlock(&lock);
            *event = &e->event;
            return 0;
        }
        pthread_mutex_unlock(&lock);
    }
}

/* Drops the queued events of an id being destroyed, and the connect requests to it (lock held). */
static void drop_events(struct fake_id *f) {
    struct fake_event_channel *c = (struct fake_event_channel *) f->id.channel;
    struct fake_event **link = &c->head;
    c->tail = NULL;
    while (*link) {
        struct fake_event *e = *link;
        if (e->event.id == &f->id || e->event.listen_id == &f->id) {
            *link = e->next;
            free(e);
        } else {
            c->tail = e;
            link = &e->next;
        }
    }
}

int rdma_ack_cm_event(struct rdma_cm_event *event) {
    free(event);
    return 0;
}

int rdma_create_id(struct rdma_event_channel *channel, struct rdma_cm_id **id, void *ctx, enum rdma_port_space ps) {
    struct fake_id *f = calloc(1, sizeof *f);
    if (!f) {
        errno = ENOMEM;
        return -1;
    }
    init_context();
    f->id.channel = channel;
    f->id.context = ctx;
    f->id.ps = ps;
    *id = &f->id;
    return 0;
}

static int is_fake_address(const struct sockaddr *a) {
    if (a->sa_family != AF_INET)
        return 0;
    uint32_t ip = ntohl(((const struct sockaddr_in *) a)->sin_addr.s_addr);
    return ip == INADDR_LOOPBACK || ip == INADDR_ANY;
}

static uint16_t port_of(const struct sockaddr *a) { return ntohs(((const struct sockaddr_in *) a)->sin_port); }

int rdma_bind_addr(struct rdma_cm_id *id, struct sockaddr *addr) {
    if (!is_fake_address(addr)) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    if (!device_listed()) {
        errno = ENODEV;
        return -1;
    }
    pthread_mutex_lock(&lock);
    struct sockaddr_in *src = &id->route.addr.src_sin;
    memcpy(src, addr, sizeof *src);
    if (!src->sin_port)
        src->sin_port = htons(next_port++);
    id->verbs = &context;
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_listen(struct rdma_cm_id *id, int backlog) {
    (void) backlog;
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    for (struct fake_id *l = listeners; l; l = l->next_listener) {
        if (port_of(&l->id.route.addr.src_addr) == port_of(&id->route.addr.src_addr)) {
            pthread_mutex_unlock(&lock);
            errno = EADDRINUSE;
            return -1;
        }
    }
    f->state = LISTENING;
    f->next_listener = listeners;
    listeners = f;
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_resolve_addr(struct rdma_cm_id *id, struct sockaddr *src, struct sockaddr *dst, int timeout_ms) {
    (void) src;
    (void) timeout_ms;
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    if (!is_fake_address(dst)) {
        post_event(f, NULL, RDMA_CM_EVENT_ADDR_ERROR, -EHOSTUNREACH, NULL, 0, 0);
    } else {
        memcpy(&id->route.addr.dst_sin, dst, sizeof(struct sockaddr_in));
        id->route.addr.src_sin.sin_family = AF_INET;
        id->route.addr.src_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        id->route.addr.src_sin.sin_port = htons(next_port++);
        id->verbs = &context;
        f->state = ADDR_RESOLVED;
        post_event(f, NULL, RDMA_CM_EVENT_ADDR_RESOLVED, 0, NULL, 0, 0);
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_resolve_route(struct rdma_cm_id *id, int timeout_ms) {
    (void) timeout_ms;
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    if (f->state != ADDR_RESOLVED) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    f->state = ROUTE_RESOLVED;
    post_event(f, NULL, RDMA_CM_EVENT_ROUTE_RESOLVED, 0, NULL, 0, 0);
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd, struct ibv_qp_init_attr *attr) {
    if (attr->qp_type != IBV_QPT_RC || attr->cap.max_send_sge > MAX_SGE || attr->cap.max_recv_sge > MAX_SGE) {
        errno = EINVAL;
        return -1;
    }
    struct fake_qp *q = calloc(1, sizeof *q);
    if (!q) {
        errno = ENOMEM;
        return -1;
    }
    pthread_mutex_lock(&lock);
    q->qp.context = id->verbs;
    q->qp.pd = pd;
    q->qp.send_cq = attr->send_cq;
    q->qp.recv_cq = attr->recv_cq;
    q->qp.qp_type = IBV_QPT_RC;
    q->qp.qp_num = next_qp_num++;
    q->qp.state = IBV_QPS_INIT;
    id->qp = &q->qp;
    id->pd = pd;
    pthread_mutex_unlock(&lock);
    return 0;
}

void rdma_destroy_qp(struct rdma_cm_id *id) {
    pthread_mutex_lock(&lock);
    struct fake_qp *q = (struct fake_qp *) id->qp;
    if (q && q->peer)
        q->peer->peer = NULL;
    id->qp = NULL;
    pthread_mutex_unlock(&lock);
    free(q);
}

int rdma_connect(struct rdma_cm_id *id, struct rdma_conn_param *param) {
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    if (f->state != ROUTE_RESOLVED || !id->qp) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    if (param->private_data_len > REQ_PRIVATE_DATA) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    f->connect_rnr_retry = param->rnr_retry_count;
    struct fake_id *l = listeners;
    while (l && port_of(&l->id.route.addr.src_addr) != port_of(&id->route.addr.dst_addr))
        l = l->next_listener;
    if (!l) {
        f->state = DOWN;
        post_event(f, NULL, RDMA_CM_EVENT_REJECTED, 8, NULL, 0, REJ_PRIVATE_DATA);
        pthread_mutex_unlock(&lock);
        return 0;
    }
    struct fake_id *child = calloc(1, sizeof *child);
    child->id.channel = l->id.channel;
    child->id.verbs = &context;
    child->id.ps = id->ps;
    memcpy(&child->id.route.addr.src_sin, &id->route.addr.dst_sin, sizeof(struct sockaddr_in));
    memcpy(&child->id.route.addr.dst_sin, &id->route.addr.src_sin, sizeof(struct sockaddr_in));
    child->state = REQUESTED;
    child->peer = f;
    f->peer = child;
    f->state = CONNECTING;
    post_event(child, l, RDMA_CM_EVENT_CONNECT_REQUEST, 0, param->private_data, param->private_data_len, REQ_PRIVATE_DATA);
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_accept(struct rdma_cm_id *id, struct rdma_conn_param *param) {
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    struct fake_id *a = f->peer;
    if (f->state != REQUESTED || !id->qp || !a || a->state != CONNECTING || !a->id.qp) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    struct fake_qp *mine = (struct fake_qp *) id->qp, *theirs = (struct fake_qp *) a->id.qp;
    mine->peer = theirs;
    theirs->peer = mine;
    /* Each side's value goes to the other side's queue pair, as the CM carries it. */
    mine->rnr_retry = a->connect_rnr_retry;
    theirs->rnr_retry = param->rnr_retry_count;
    mine->qp.state = theirs->qp.state = IBV_QPS_RTS;
    f->state = a->state = CONNECTED;
    post_event(f, NULL, RDMA_CM_EVENT_ESTABLISHED, 0, NULL, 0, 0);
    post_event(a, NULL, RDMA_CM_EVENT_ESTABLISHED, 0, param->private_data, param->private_data_len, REP_PRIVATE_DATA);
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_reject(struct rdma_cm_id *id, const void *private_data, uint8_t private_data_len) {
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    struct fake_id *a = f->peer;
    if (f->state != REQUESTED) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    f->state = DOWN;
    f->peer = NULL;
    if (a) {
        a->peer = NULL;
        a->state = DOWN;
        post_event(a, NULL, RDMA_CM_EVENT_REJECTED, 28, private_data, private_data_len, REJ_PRIVATE_DATA);
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* The end of one side's disconnect (lock held): DISCONNECTED, then TIMEWAIT_EXIT. */
static void disconnected(struct fake_id *f, int status) {
    f->state = DOWN;
    f->peer = NULL;
    post_event(f, NULL, RDMA_CM_EVENT_DISCONNECTED, status, NULL, 0, 0);
    if (f->id.qp)
        post_event(f, NULL, RDMA_CM_EVENT_TIMEWAIT_EXIT, 0, NULL, 0, 0);
}

/* DREQ (lock held): the peer is told and owes an answer; with no peer left the request times out. */
static void send_dreq(struct fake_id *f) {
    struct fake_id *p = f->peer;
    if (p && p->state == CONNECTED) {
        f->state = DREQ_SENT;
        p->state = DREQ_RCVD;
        post_event(p, NULL, RDMA_CM_EVENT_DISCONNECTED, 0, NULL, 0, 0);
    } else {
        disconnected(f, -ETIMEDOUT);
    }
}

/* DREP (lock held): the peer waiting for it is told; both ends are through. */
static void send_drep(struct fake_id *f) {
    struct fake_id *p = f->peer;
    f->state = DOWN;
    f->peer = NULL;
    if (f->id.qp)
        post_event(f, NULL, RDMA_CM_EVENT_TIMEWAIT_EXIT, 0, NULL, 0, 0);
    if (p && p->state == DREQ_SENT)
        disconnected(p, 0);
}

/* As on rdma_cm over IB/RoCE: the queue pair goes to error, then a DREQ, or the DREP owed. */
int rdma_disconnect(struct rdma_cm_id *id) {
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    if (f->state != CONNECTED && f->state != DREQ_SENT && f->state != DREQ_RCVD && f->state != DOWN) {
        pthread_mutex_unlock(&lock);
        errno = EINVAL;
        return -1;
    }
    if (f->id.qp && f->id.qp->state != IBV_QPS_ERR)
        flush((struct fake_qp *) f->id.qp);
    if (f->state == CONNECTED)
        send_dreq(f);
    else if (f->state == DREQ_RCVD)
        send_drep(f);
    pthread_mutex_unlock(&lock);
    return 0;
}

int rdma_destroy_id(struct rdma_cm_id *id) {
    struct fake_id *f = (struct fake_id *) id;
    pthread_mutex_lock(&lock);
    if (id->qp) {
        pthread_mutex_unlock(&lock);
        errno = EBUSY;
        return -1;
    }
    /* Destroying a connected id sends the DREQ, one that owes a DREP sends it. */
    if (f->state == CONNECTED && f->peer && f->peer->state == CONNECTED) {
        f->peer->state = DREQ_RCVD;
        f->peer->peer = NULL;
        post_event(f->peer, NULL, RDMA_CM_EVENT_DISCONNECTED, 0, NULL, 0, 0);
    } else if (f->state == DREQ_RCVD) {
        send_drep(f);
    } else if (f->peer) {
        f->peer->peer = NULL;
    }
    for (struct fake_id **l = &listeners; *l; l = &(*l)->next_listener) {
        if (*l == f) {
            *l = f->next_listener;
            break;
        }
    }
    drop_events(f);
    /* Not freed: an event fetched before the destroy must never name a reused address. */
    f->state = DOWN;
    pthread_mutex_unlock(&lock);
    return 0;
}
