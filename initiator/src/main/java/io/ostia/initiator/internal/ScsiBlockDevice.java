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
import java.util.function.Supplier;

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
        return transfer(lba, buffer, false);
    }

    @Override
    public CompletableFuture<Void> writeAsync(long lba, MemorySegment buffer) {
        return transfer(lba, buffer, true);
    }

    @Override
    public CompletableFuture<Void> flushAsync() {
        return checked(ScsiRequest.none(lun, Cdb.synchronizeCache10()), () -> "SYNCHRONIZE CACHE");
    }

    private CompletableFuture<Void> transfer(long lba, MemorySegment buffer, boolean write) {
        int blockSize = capacity.blockLength();
        if (buffer.byteSize() % blockSize != 0 || buffer.byteSize() == 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("buffer of " + buffer.byteSize()
                    + " bytes is not a positive whole number of " + blockSize + "-byte blocks"));
        }
        long blocks = buffer.byteSize() / blockSize;
        if (blocks > Integer.MAX_VALUE) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("transfer of " + blocks + " blocks is too long"));
        }
        ScsiRequest request;
        try {
            request = write
                    ? ScsiRequest.write(lun, Cdb.write(lba, (int) blocks), buffer)
                    : ScsiRequest.read(lun, Cdb.read(lba, (int) blocks), buffer);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        // Built only when a message needs it: a string per command costs more than the command.
        Supplier<String> what = () -> (write ? "WRITE" : "READ") + " of " + blocks + " blocks at LBA " + lba + " on LUN " + lun;
        return checked(request, what);
    }

    /**
     * Runs a command, reissuing it after a unit attention (a reset, a reinstated session, changed
     * capacity: the command itself was not executed), and after TASK SET FULL or BUSY (the target
     * is short of resources now) with a growing delay until the command timeout, as a disk driver
     * does; other errors fail.
     */
    private CompletableFuture<Void> checked(ScsiRequest request, Supplier<String> what) {
        CompletableFuture<Void> outcome = new CompletableFuture<>();
        long deadline = System.nanoTime() + session.options.commandTimeout().toNanos();
        attempt(request, what, 1, 0, FIRST_BACKOFF_MILLIS, deadline, outcome);
        return outcome;
    }

    /**
     * One execution of the command; completes {@code outcome} unless it reissues (one future per
     * command, not per stage). {@code attempt} counts unit-attention reissues, {@code reissues}
     * those after TASK SET FULL or BUSY.
     */
    private void attempt(ScsiRequest request, Supplier<String> what, int attempt, int reissues, long backoffMillis,
                         long deadline, CompletableFuture<Void> outcome) {
        session.execute(request).whenComplete((r, error) -> {
            if (error != null) {
                outcome.completeExceptionally(error);
                return;
            }
            boolean unitAttention = r.status() == ScsiStatus.CHECK_CONDITION
                    && r.sense().map(s -> s.key() == SenseKey.UNIT_ATTENTION).orElse(false);
            if (unitAttention && attempt < MAX_UNIT_ATTENTION_RETRIES) {
                LOG.log(System.Logger.Level.INFO, () -> "LUN " + lun + " of " + session.targetName()
                        + " reports a unit attention (" + r.sense().orElseThrow() + "); reissuing " + what.get());
                attempt(request, what, attempt + 1, reissues, backoffMillis, deadline, outcome);
                return;
            }
            boolean busy = r.status() == ScsiStatus.TASK_SET_FULL || r.status() == ScsiStatus.BUSY;
            if (busy && System.nanoTime() + backoffMillis * 1_000_000 - deadline < 0) {
                LOG.log(System.Logger.Level.DEBUG, () -> "LUN " + lun + " of " + session.targetName() + " answered "
                        + r.status() + "; reissuing " + what.get() + " in " + backoffMillis + " ms");
                reissuing(r.status(), reissues + 1, backoffMillis, what);
                CompletableFuture.delayedExecutor(backoffMillis, TimeUnit.MILLISECONDS).execute(() ->
                        attempt(request, what, attempt, reissues + 1, Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2),
                                deadline, outcome));
                return;
            }
            IscsiException failure = check(r, what);
            if (failure == null) {
                outcome.complete(null);
            } else {
                outcome.completeExceptionally(failure);
            }
        });
    }

    /** Tells the session's listeners and JFR that a command is reissued after {@code backoffMillis}. */
    private void reissuing(ScsiStatus status, int reissue, long backoffMillis, Supplier<String> what) {
        session.events.emit(new SessionEvent.CommandReissued(session, lun, status, reissue,
                Duration.ofMillis(backoffMillis)));
        FlightEvents.CommandReissue event = new FlightEvents.CommandReissue();
        if (event.shouldCommit()) {
            event.target = session.targetName();
            event.command = what.get();
            event.status = status.toString();
            event.attempt = reissue;
            event.backoff = backoffMillis;
            event.commit();
        }
    }

    /** Why a finished command failed, or null when it moved exactly its buffer with GOOD status. */
    private static IscsiException check(ScsiResult r, Supplier<String> what) {
        if (!r.isGood()) {
            return new ScsiException(what.get(), r.status(), r.sense().orElse(null));
        }
        if (r.residual() != 0) {
            return new IscsiException(what.get() + " moved "
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
