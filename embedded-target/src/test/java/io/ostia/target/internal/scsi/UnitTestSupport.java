package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseKey;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the logical unit tests share: two I_T nexuses, CDB builders, running a task, reading its result. */
final class UnitTestSupport {

    static final Nexus A = new Nexus("iqn.2026-01.io.ostia:a", 0x23d000000001L, "iqn.2026-01.io.ostia:t", 1);
    static final Nexus B = new Nexus("iqn.2026-01.io.ostia:b", 0x23d000000002L, "iqn.2026-01.io.ostia:t", 1);

    private UnitTestSupport() {
    }

    static byte[] cdb(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    static byte[] rw16(int op, long lba, int blocks) {
        byte[] c = new byte[16];
        c[0] = (byte) op;
        Bytes.put64(c, 2, lba);
        Bytes.put32(c, 10, blocks);
        return c;
    }

    /** Runs {@code cdb} on {@code unit} with {@code out} as Data-Out and room for {@code inLength} of Data-In. */
    static ScsiTask run(ScsiTask task, LogicalUnit unit, Nexus nexus, byte[] cdb, byte[] out, int inLength) {
        task.reset(cdb, nexus, out == null ? null : MemorySegment.ofArray(out),
                MemorySegment.ofArray(new byte[inLength]));
        unit.execute(task);
        return task;
    }

    /** The Data-In the task produced, from its buffer or, for a deferred block read, from the store. */
    static byte[] dataIn(ScsiTask task) {
        if (task.readSource() != null) {
            byte[] out = new byte[(int) task.dataInLength()];
            try {
                task.readSource().read(task.readOffset(), MemorySegment.ofArray(out));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out;
        }
        return task.dataIn().asSlice(0, task.dataInLength()).toArray(ValueLayout.JAVA_BYTE);
    }

    static void assertSense(ScsiTask t, SenseKey key, AdditionalSense asc) {
        assertEquals(ScsiStatus.CHECK_CONDITION, t.status());
        assertEquals(key, t.sense().key(), t.sense().toString());
        assertEquals(asc, t.sense().additional(), t.sense().toString());
    }
}
