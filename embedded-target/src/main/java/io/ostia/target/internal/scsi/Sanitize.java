package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.SenseKey;
import io.ostia.target.internal.store.BackingStore;

import java.io.IOException;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * SANITIZE (SBC-3 §5.19) with the BLOCK ERASE and CRYPTOGRAPHIC ERASE service actions. Both
 * deallocate every block of the store: deallocated blocks read zero (LBPRZ), so the old data
 * can no longer be read, which is what either erase promises; the stores have no media key to
 * change, and reads after it succeed (WABEREQ and WACEREQ 01b in the Block Device
 * Characteristics page). OVERWRITE is not offered: it may outlive the connection that started
 * it, and a sanitize that survives its I_T nexus needs a background task this target does not
 * keep. While a sanitize runs, the unit answers other medium commands with NOT READY, SANITIZE
 * IN PROGRESS (SBC-3 §4.11). An erase the store fails leaves the unit in failure mode (medium
 * commands end with MEDIUM ERROR, SANITIZE COMMAND FAILED) until an erase succeeds or, when the
 * failed one allowed it (AUSE), EXIT FAILURE MODE ends it (SBC-4 §4.11.3).
 */
final class Sanitize {

    static final int BLOCK_ERASE = 0x02;
    static final int CRYPTOGRAPHIC_ERASE = 0x03;
    static final int EXIT_FAILURE_MODE = 0x1f;
    private static final AdditionalSense SANITIZE_IN_PROGRESS = new AdditionalSense(0x04, 0x1b);
    private static final AdditionalSense SANITIZE_COMMAND_FAILED = new AdditionalSense(0x31, 0x03);

    /** No failed sanitize; or one that EXIT FAILURE MODE may end (AUSE 1); or one only an erase ends. */
    private enum Failure { NONE, UNRESTRICTED, RESTRICTED }

    private final LogicalUnit unit;
    private final BackingStore store;
    /** Exclusive while erasing: no write interleaves with the erase. */
    private final ReadWriteLock atomicity;
    private volatile boolean running;
    private volatile Failure failure = Failure.NONE;

    Sanitize(LogicalUnit unit, BackingStore store, ReadWriteLock atomicity) {
        this.unit = unit;
        this.store = store;
        this.atomicity = atomicity;
    }

    /** Fails a command that needs the medium while a sanitize runs, or after one failed. */
    void requireIdle(int opcode) throws ScsiStatusException {
        if (running) {
            throw ScsiStatusException.check(SenseKey.NOT_READY, SANITIZE_IN_PROGRESS);
        }
        if (failure != Failure.NONE && opcode != io.ostia.api.scsi.ScsiOpcode.SANITIZE) {
            throw ScsiStatusException.check(SenseKey.MEDIUM_ERROR, SANITIZE_COMMAND_FAILED);
        }
    }

    void execute(ScsiTask t) throws ScsiStatusException, IOException {
        byte[] cdb = t.cdb();
        if ((cdb[1] & 0x40) != 0) {
            throw ScsiStatusException.invalidCdb(1, 6); // reserved
        }
        for (int i = 2; i <= 6; i++) {
            if (cdb[i] != 0) {
                throw ScsiStatusException.invalidCdb(i, -1); // reserved
            }
        }
        int serviceAction = cdb[1] & 0x1f;
        if (serviceAction != BLOCK_ERASE && serviceAction != CRYPTOGRAPHIC_ERASE && serviceAction != EXIT_FAILURE_MODE) {
            throw ScsiStatusException.invalidCdb(1, 4);
        }
        if (Bytes.u16(cdb, 7) != 0) {
            // None of these service actions takes parameter data (SBC-3 §5.19.1).
            throw ScsiStatusException.invalidCdb(7, -1);
        }
        unit.checkWritable();
        if (serviceAction == EXIT_FAILURE_MODE) {
            if (failure == Failure.RESTRICTED) {
                throw ScsiStatusException.invalidCdb(1, 4); // AUSE was 0: only a good erase ends it
            }
            failure = Failure.NONE; // as if the failed sanitize had completed without error
            return;
        }
        boolean ause = (cdb[1] & 0x20) != 0;
        // IMMED asks for status before the erase ends; the erase is one deallocation, so it has
        // ended by then either way.
        atomicity.writeLock().lock();
        running = true;
        try {
            store.unmap(0, store.sizeBytes());
            failure = Failure.NONE;
        } catch (IOException | RuntimeException e) {
            failure = ause ? Failure.UNRESTRICTED : Failure.RESTRICTED;
            throw e;
        } finally {
            running = false;
            atomicity.writeLock().unlock();
        }
    }
}
