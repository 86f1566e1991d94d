package io.ostia.initiator.internal;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.ScsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionEvent;
import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.InquiryData;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseKey;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/** A LUN of a session as a block device: READ/WRITE (10 or 16) and SYNCHRONIZE CACHE. */
final class ScsiBlockDevice implements BlockDevice {

    private static final System.Logger LOG = System.getLogger(ScsiBlockDevice.class.getName());
    /** Unit attentions queue up (reset, then capacity change...): a few reissues clear them. */
    private static final int MAX_UNIT_ATTENTION_RETRIES = 5;
    /** TASK SET FULL and BUSY are reissued after 5 ms, doubling to 500 ms, within the command timeout. */
    private static final long FIRST_BACKOFF_MILLIS = 5;
    private static final long MAX_BACKOFF_MILLIS = 500;

    private final IscsiSession session;
    private final int lun;
    private final Capacity capacity;
    private final InquiryData inquiry;

    private ScsiBlockDevice(IscsiSession session, int lun, Capacity capacity, InquiryData inquiry) {
        this.session = session;
        this.lun = lun;
        this.capacity = capacity;
        this.inquiry = inquiry;
    }

    /**
     * Waits for the unit to be ready (a fresh I_T nexus starts with a unit attention, which
     * TEST UNIT READY consumes), then reads INQUIRY and the capacity.
     */
    static ScsiBlockDevice open(IscsiSession session, int lun, Duration readyTimeout) throws IscsiException {
        awaitReady(session, lun, readyTimeout);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment inq = arena.allocate(96);
            ScsiResult r = session.executeOrThrow(ScsiRequest.read(lun, Cdb.inquiry(-1, 96), inq));
            InquiryData inquiry = InquiryData.parse(inq.toArray(ValueLayout.JAVA_BYTE), received(96, r));
            if (inquiry.peripheralQualifier() != 0) {
                throw new IscsiException("LUN " + lun + " of " + session.targetName() + " has no logical unit connected"
                        + " (peripheral qualifier " + inquiry.peripheralQualifier() + ")");
            }
            if (inquiry.deviceType() != InquiryData.DIRECT_ACCESS_BLOCK_DEVICE) {
                throw new IscsiException("LUN " + lun + " of " + session.targetName() + " is peripheral device type "
                        + inquiry.deviceType() + ", not a direct-access block device");
            }
            MemorySegment cap = arena.allocate(32);
            r = session.executeOrThrow(ScsiRequest.read(lun, Cdb.readCapacity10(), cap.asSlice(0, 8)));
            Capacity capacity = Capacity.parse10(cap.toArray(ValueLayout.JAVA_BYTE), received(8, r));
            if (capacity.blockCount() - 1 == Capacity.LAST_LBA_NEEDS_16) {
                r = session.executeOrThrow(ScsiRequest.read(lun, Cdb.readCapacity16(32), cap));
                capacity = Capacity.parse16(cap.toArray(ValueLayout.JAVA_BYTE), received(32, r));
            }
            return new ScsiBlockDevice(session, lun, capacity, inquiry);
        }
    }

    private static int received(int expected, ScsiResult r) {
        return (int) (expected - Math.max(0, r.residual()));
    }

    private static void awaitReady(Session session, int lun, Duration timeout) throws IscsiException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            ScsiResult r = io.ostia.api.Futures.await(session.execute(ScsiRequest.none(lun, Cdb.testUnitReady())));
            if (r.isGood()) {
                return;
            }
            boolean retry = r.status() == ScsiStatus.CHECK_CONDITION && r.sense().isPresent()
                    && (r.sense().get().key() == SenseKey.UNIT_ATTENTION
                    || r.sense().get().key() == SenseKey.NOT_READY
                    && r.sense().get().additional().asc() == AdditionalSense.LOGICAL_UNIT_NOT_READY.asc())
                    || r.status() == ScsiStatus.BUSY;
            if (!retry || System.nanoTime() - deadline > 0) {
                throw new ScsiException("TEST UNIT READY on LUN " + lun, r.status(), r.sense().orElse(null));
            }
            if (r.sense().map(s -> s.key() == SenseKey.NOT_READY).orElse(r.status() == ScsiStatus.BUSY)) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IscsiException("interrupted while waiting for LUN " + lun + " to become ready", e);
                }
            }
        }
    }

    @Override
    public int lun() {
        return lun;
    }

    @Override
    public Capacity capacity() {
        return capacity;
    }

    @Override
    public InquiryData inquiry() {
        return inquiry;
    }

    @Override
    public void read(long lba, MemorySegment buffer) throws IscsiException {
        session.requireMayBlock("a blocking READ");
        BlockDevice.super.read(lba, buffer);
    }

    @Override
    public void write(long lba, MemorySegment buffer) throws IscsiException {
        session.requireMayBlock("a blocking WRITE");
        BlockDevice.super.write(lba, buffer);
    }

    @Override
    public void flush() throws IscsiException {
        session.requireMayBlock("a blocking SYNCHRONIZE CACHE");
        BlockDevice.super.flush();
    }

    @Override
    public CompletableFuture<Void> readAsync(long lba, MemorySegment buffer) {
        return once(buffer, false, lba);
    }

    @Override
    public CompletableFuture<Void> writeAsync(long lba, MemorySegment buffer) {
        return once(buffer, true, lba);
    }

    @Override
    public CompletableFuture<Void> flushAsync() {
        Outcome outcome = new Outcome();
        new Transfer(MemorySegment.NULL, outcome).start(ScsiRequest.none(lun, Cdb.synchronizeCache10()),
                "SYNCHRONIZE CACHE", -1);
        return outcome;
    }

    @Override
    public Slot slot(MemorySegment buffer, SlotListener listener) {
        Objects.requireNonNull(listener, "listener");
        capacity.blocksIn(buffer.byteSize());
        return new Transfer(buffer, listener);
    }

    /** One READ or WRITE for a future: a slot used once. */
    private CompletableFuture<Void> once(MemorySegment buffer, boolean write, long lba) {
        Outcome outcome = new Outcome();
        try {
            capacity.blocksIn(buffer.byteSize());
            Transfer transfer = new Transfer(buffer, outcome);
            if (write) {
                transfer.write(lba);
            } else {
                transfer.read(lba);
            }
        } catch (IllegalArgumentException e) {
            outcome.completeExceptionally(e);
        }
        return outcome;
    }

    /** The future of a command run once: the listener of a slot used once. */
    private static final class Outcome extends CompletableFuture<Void> implements SlotListener {
        @Override
        public void transferred(Slot slot, Throwable failure) {
            if (failure == null) {
                complete(null);
            } else {
                completeExceptionally(failure);
            }
        }
    }

    /**
     * A command of this device over one buffer, one at a time: reissued after a unit attention
     * (a reset, a reinstated session, changed capacity: the command itself was not executed), and
     * after TASK SET FULL or BUSY (the target is short of resources now) with a growing delay
     * until the command timeout, as a disk driver does; other errors fail. It is the slot an
     * application reuses ({@link #slot}), the listener of its session task and the delayed
     * reissue; task, CDBs and requests are made once, so that a reissued slot allocates nothing,
     * and its description is built only when a message needs it.
     */
    private final class Transfer implements Slot, Task.Listener, Runnable {
        private final MemorySegment buffer;
        private final SlotListener listener;
        private final Task task = new Task(this);
        private final AtomicBoolean busy = new AtomicBoolean();
        private final int blocks;
        /** READ (10), WRITE (10), READ (16), WRITE (16) over the buffer, each made at its first use. */
        private final ScsiRequest[] transfers = new ScsiRequest[4];
        private ScsiRequest request;
        /** The operation's name; a transfer of {@code blocks} at {@code lba} when that is ≥ 0. */
        private String operation;
        private long lba;
        private long deadline;
        /** Executions so far after unit attentions (1: the first), and reissues after TASK SET FULL or BUSY. */
        private int attempt;
        private int reissues;
        private long backoffMillis;

        Transfer(MemorySegment buffer, SlotListener listener) {
            this.buffer = buffer;
            this.listener = listener;
            this.blocks = (int) (buffer.byteSize() / capacity.blockLength());
        }

        @Override
        public MemorySegment buffer() {
            return buffer;
        }

        @Override
        public void read(long lba) {
            start(transfer(false, lba), "READ", lba);
        }

        @Override
        public void write(long lba) {
            start(transfer(true, lba), "WRITE", lba);
        }

        /** The request for a READ or WRITE at {@code lba}, its CDB rewritten in place. */
        private ScsiRequest transfer(boolean write, long lba) {
            if (!busy.compareAndSet(false, true)) {
                throw new IllegalStateException("the slot's previous transfer has not ended");
            }
            try {
                int index = (write ? 1 : 0) + (Cdb.fits10(lba, blocks) ? 0 : 2);
                ScsiRequest r = transfers[index];
                if (r == null) {
                    byte[] cdb = write ? Cdb.write(lba, blocks) : Cdb.read(lba, blocks);
                    r = transfers[index] = write ? ScsiRequest.write(lun, cdb, buffer) : ScsiRequest.read(lun, cdb, buffer);
                } else {
                    Cdb.setTransfer(r.cdb(), lba, blocks);
                }
                return r;
            } catch (RuntimeException e) {
                busy.set(false);
                throw e;
            }
        }

        /** Runs {@code request} (the slot is taken); {@code lba} -1 for a command without a transfer. */
        void start(ScsiRequest request, String operation, long lba) {
            busy.set(true);
            this.request = request;
            this.operation = operation;
            this.lba = lba;
            this.deadline = System.nanoTime() + session.options.commandTimeout().toNanos();
            attempt = 1;
            reissues = 0;
            backoffMillis = FIRST_BACKOFF_MILLIS;
            run();
        }

        /** The first execution, one after a unit attention, and the delayed reissue after TASK SET FULL or BUSY. */
        @Override
        public void run() {
            session.submit(task.reset(request));
        }

        /** One execution's result: ends this command unless it reissues. */
        @Override
        public void taskDone(Task done, ScsiResult r, Throwable error) {
            if (error != null) {
                end(error);
                return;
            }
            if (r.isGood() && r.residual() == 0) {
                end(null);
                return;
            }
            boolean unitAttention = r.status() == ScsiStatus.CHECK_CONDITION
                    && r.sense().map(s -> s.key() == SenseKey.UNIT_ATTENTION).orElse(false);
            if (unitAttention && attempt < MAX_UNIT_ATTENTION_RETRIES) {
                LOG.log(System.Logger.Level.INFO, () -> "LUN " + lun + " of " + session.targetName()
                        + " reports a unit attention (" + r.sense().orElseThrow() + "); reissuing " + describe());
                attempt++;
                run();
                return;
            }
            boolean busyTarget = r.status() == ScsiStatus.TASK_SET_FULL || r.status() == ScsiStatus.BUSY;
            if (busyTarget && System.nanoTime() + backoffMillis * 1_000_000 - deadline < 0) {
                long delay = backoffMillis;
                LOG.log(System.Logger.Level.DEBUG, () -> "LUN " + lun + " of " + session.targetName() + " answered "
                        + r.status() + "; reissuing " + describe() + " in " + delay + " ms");
                reissuing(r.status(), ++reissues, delay);
                backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
                CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(this);
                return;
            }
            end(check(r, describe()));
        }

        /** Frees the slot, then tells the listener, which may reissue it at once. */
        private void end(Throwable failure) {
            busy.set(false);
            listener.transferred(this, failure);
        }

        /** Tells the session's listeners and JFR that this command is reissued after {@code backoffMillis}. */
        private void reissuing(ScsiStatus status, int reissue, long backoffMillis) {
            session.events.emit(new SessionEvent.CommandReissued(session, lun, status, reissue,
                    Duration.ofMillis(backoffMillis)));
            FlightEvents.CommandReissue event = new FlightEvents.CommandReissue();
            if (event.shouldCommit()) {
                event.target = session.targetName();
                event.command = describe();
                event.status = status.toString();
                event.attempt = reissue;
                event.backoff = backoffMillis;
                event.commit();
            }
        }

        private String describe() {
            return lba >= 0 ? operation + " of " + blocks + " blocks at LBA " + lba + " on LUN " + lun : operation;
        }
    }

    /** Why a finished command failed, or null when it moved exactly its buffer with GOOD status. */
    private static IscsiException check(ScsiResult r, String what) {
        if (!r.isGood()) {
            return new ScsiException(what, r.status(), r.sense().orElse(null));
        }
        if (r.residual() != 0) {
            return new IscsiException(what + " moved "
                    + (r.residual() > 0 ? r.residual() + " bytes less" : -r.residual() + " bytes more")
                    + " than the buffer holds");
        }
        return null;
    }

    @Override
    public String toString() {
        return "LUN " + lun + " of " + session.targetName() + " (" + inquiry.vendor() + " " + inquiry.product() + ", "
                + capacity.blockCount() + " x " + capacity.blockLength() + " bytes)";
    }
}
