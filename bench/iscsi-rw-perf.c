/*
 * iscsi-perf's measuring loop with writes: keeps -m requests of -b blocks in flight on one
 * LUN through libiscsi's asynchronous API, each reissued from its predecessor's callback, and
 * prints iscsi-perf's per-second line ("iops current N (M MB/s)"), so bench/perf-vs-libiscsi.sh
 * reads both the same way. -w P makes P percent of the requests WRITE(16) (100: writes only),
 * the rest READ(16); writes send the slot's own buffer, as an application would.
 *
 * Built by bench/perf-vs-libiscsi.sh at bench time (gcc, Debian libiscsi-dev):
 *   gcc -O2 -o iscsi-rw-perf iscsi-rw-perf.c -liscsi
 * usage: iscsi-rw-perf [-m depth] [-b blocks] [-r] [-w write-percent] iscsi://host:port/iqn/lun
 * Runs until SIGINT or SIGTERM, then waits for what is in flight and prints the average.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct slot {
    struct run *run;
    unsigned char *buffer;
};

struct run {
    struct iscsi_context *iscsi;
    int lun;
    int block_size;
    uint64_t block_count;
    int blocks;
    int depth;
    int random;
    int write_percent;
    uint64_t next_lba;
    int in_flight;
    uint64_t done;
    uint64_t first_ns, last_ns, last_done;
    struct slot *slots;
};

static volatile sig_atomic_t stopping;

static void on_signal(int signum) {
    (void) signum;
    stopping = 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t mib(const struct run *run, uint64_t iops) {
    return iops * (uint64_t) run->blocks * (uint64_t) run->block_size >> 20;
}

static void progress(struct run *run) {
    uint64_t now = now_ns();
    if (now - run->last_ns < 1000000000u) {
        return;
    }
    uint64_t current = 1000000000u * (run->done - run->last_done) / (now - run->last_ns);
    uint64_t average = 1000000000u * run->done / (now - run->first_ns);
    uint64_t s = (now - run->first_ns) / 1000000000u;
    printf("\r%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 " - iops current %" PRIu64 " (%" PRIu64 " MB/s), iops average %"
           PRIu64 " (%" PRIu64 " MB/s)   ", s / 3600, s / 60 % 60, s % 60, current, mib(run, current), average,
           mib(run, average));
    fflush(stdout);
    run->last_ns = now;
    run->last_done = run->done;
}

static void issue(struct slot *slot);

static void completed(struct iscsi_context *iscsi, int status, void *command_data, void *private_data) {
    struct slot *slot = private_data;
    struct run *run = slot->run;
    struct scsi_task *task = command_data;
    if (status != SCSI_STATUS_GOOD) {
        fprintf(stderr, "\niscsi-rw-perf: %s failed: status %d, sense key %d, ascq 0x%04x: %s\n",
                task->cdb[0] == SCSI_OPCODE_WRITE16 ? "WRITE(16)" : "READ(16)", status, task->sense.key,
                task->sense.ascq, iscsi_get_error(iscsi));
        exit(10);
    }
    scsi_free_scsi_task(task);
    run->in_flight--;
    run->done++;
    progress(run);
    issue(slot);
}

static void issue(struct slot *slot) {
    struct run *run = slot->run;
    if (stopping) {
        return;
    }
    uint64_t lba;
    if (run->random) {
        lba = ((uint64_t) rand() % (run->block_count / run->blocks)) * run->blocks;
    } else {
        if (run->next_lba + run->blocks > run->block_count) {
            run->next_lba = 0;
        }
        lba = run->next_lba;
        run->next_lba += run->blocks;
    }
    uint32_t bytes = (uint32_t) run->blocks * run->block_size;
    int write = run->write_percent >= 100 || (run->write_percent > 0 && rand() % 100 < run->write_percent);
    struct scsi_task *task = write
        ? iscsi_write16_task(run->iscsi, run->lun, lba, slot->buffer, bytes, run->block_size, 0, 0, 0, 0, 0,
                             completed, slot)
        : iscsi_read16_task(run->iscsi, run->lun, lba, bytes, run->block_size, 0, 0, 0, 0, 0, completed, slot);
    if (task == NULL) {
        fprintf(stderr, "iscsi-rw-perf: cannot queue a %s: %s\n", write ? "WRITE(16)" : "READ(16)",
                iscsi_get_error(run->iscsi));
        exit(10);
    }
    run->in_flight++;
}

static void usage(void) {
    fprintf(stderr, "usage: iscsi-rw-perf [-m depth] [-b blocks] [-r] [-w write-percent] iscsi://host:port/iqn/lun\n");
    exit(1);
}

int main(int argc, char *argv[]) {
    struct run run;
    memset(&run, 0, sizeof run);
    run.depth = 32;
    run.blocks = 8;
    int c;
    while ((c = getopt(argc, argv, "m:b:rw:")) != -1) {
        switch (c) {
        case 'm': run.depth = atoi(optarg); break;
        case 'b': run.blocks = atoi(optarg); break;
        case 'r': run.random = 1; break;
        case 'w': run.write_percent = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind != argc - 1 || run.depth < 1 || run.blocks < 1 || run.write_percent < 0 || run.write_percent > 100) {
        usage();
    }
    srand((unsigned) time(NULL));
    run.iscsi = iscsi_create_context("iqn.2026-11.io.ostia.bench:iscsi-rw-perf");
    if (run.iscsi == NULL) {
        fprintf(stderr, "iscsi-rw-perf: cannot create a libiscsi context\n");
        return 10;
    }
    struct iscsi_url *url = iscsi_parse_full_url(run.iscsi, argv[optind]);
    if (url == NULL) {
        fprintf(stderr, "iscsi-rw-perf: bad URL %s: %s\n", argv[optind], iscsi_get_error(run.iscsi));
        return 10;
    }
    iscsi_set_targetname(run.iscsi, url->target);
    iscsi_set_session_type(run.iscsi, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(run.iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    if (iscsi_full_connect_sync(run.iscsi, url->portal, url->lun) != 0) {
        fprintf(stderr, "iscsi-rw-perf: login to %s failed: %s\n", argv[optind], iscsi_get_error(run.iscsi));
        return 10;
    }
    run.lun = url->lun;
    iscsi_destroy_url(url);
    struct scsi_task *task = iscsi_readcapacity16_sync(run.iscsi, run.lun);
    struct scsi_readcapacity16 *capacity = task == NULL || task->status != SCSI_STATUS_GOOD ? NULL
        : scsi_datain_unmarshall(task);
    if (capacity == NULL) {
        fprintf(stderr, "iscsi-rw-perf: READ CAPACITY(16) failed: %s\n", iscsi_get_error(run.iscsi));
        return 10;
    }
    run.block_size = (int) capacity->block_length;
    run.block_count = capacity->returned_lba + 1;
    scsi_free_scsi_task(task);
    if (run.block_count < (uint64_t) run.blocks) {
        fprintf(stderr, "iscsi-rw-perf: the LUN has %" PRIu64 " blocks, fewer than -b %d\n", run.block_count, run.blocks);
        return 10;
    }
    printf("connected: %" PRIu64 " blocks of %d bytes; %s, %d%% writes, %d requests of %d blocks in flight\n",
           run.block_count, run.block_size, run.random ? "random" : "sequential", run.write_percent, run.depth,
           run.blocks);
    run.slots = calloc((size_t) run.depth, sizeof *run.slots);
    for (int i = 0; i < run.depth; i++) {
        run.slots[i].run = &run;
        if (posix_memalign((void **) &run.slots[i].buffer, 4096, (size_t) run.blocks * run.block_size) != 0) {
            fprintf(stderr, "iscsi-rw-perf: out of memory\n");
            return 10;
        }
        memset(run.slots[i].buffer, 0x5a + i, (size_t) run.blocks * run.block_size);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run.first_ns = run.last_ns = now_ns();
    for (int i = 0; i < run.depth; i++) {
        issue(&run.slots[i]);
    }
    while (run.in_flight > 0) {
        struct pollfd pfd = { .fd = iscsi_get_fd(run.iscsi), .events = iscsi_which_events(run.iscsi) };
        if (poll(&pfd, 1, 1000) < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("iscsi-rw-perf: poll");
            return 10;
        }
        if (iscsi_service(run.iscsi, pfd.revents) < 0) {
            fprintf(stderr, "iscsi-rw-perf: %s\n", iscsi_get_error(run.iscsi));
            return 10;
        }
    }
    uint64_t average = 1000000000u * run.done / (now_ns() - run.first_ns);
    printf("\niops average %" PRIu64 " (%" PRIu64 " MB/s)\n", average, mib(&run, average));
    iscsi_logout_sync(run.iscsi);
    iscsi_destroy_context(run.iscsi);
    for (int i = 0; i < run.depth; i++) {
        free(run.slots[i].buffer);
    }
    free(run.slots);
    return 0;
}
