package io.ostia.itest;

import io.ostia.api.IscsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.scsi.Cdb;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** PERSISTENT RESERVE IN/OUT on a LUN (scope LU, type Write Exclusive), as the swap tests use them. */
final class PersistentReservations {
    private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private PersistentReservations() {
    }

    /** REGISTER {@code key}, then RESERVE with it: {@code session}'s nexus holds the reservation. */
    static void registerAndReserve(Session session, int lun, Arena arena, long key) throws IscsiException {
        session.executeOrThrow(out(arena, lun, 0x00, 0, key));
        session.executeOrThrow(out(arena, lun, 0x01, key, 0));
    }

    /** READ RESERVATION: the holder's key, or 0 when none is held. */
    static long reservationKey(Session session, int lun, Arena arena) throws IscsiException {
        MemorySegment data = arena.allocate(24);
        session.executeOrThrow(ScsiRequest.read(lun, Cdb.persistentReserveIn(0x01, 24), data));
        return data.get(BE_INT, 4) < 8 ? 0 : data.get(BE_LONG, 8);
    }

    /** The status of a one-block WRITE to LBA 0 of {@code lun} from {@code session}. */
    static ScsiResult writeOneBlock(Session session, int lun, Arena arena, Duration wait) throws Exception {
        return session.execute(ScsiRequest.write(lun, Cdb.write(0, 1), arena.allocate(512)))
                .get(wait.toSeconds(), TimeUnit.SECONDS);
    }

    /** PERSISTENT RESERVE OUT with its 24-byte parameter list. */
    private static ScsiRequest out(Arena arena, int lun, int serviceAction, long reservationKey, long serviceActionKey) {
        MemorySegment parameters = arena.allocate(24);
        parameters.set(BE_LONG, 0, reservationKey);
        parameters.set(BE_LONG, 8, serviceActionKey);
        return ScsiRequest.write(lun, Cdb.persistentReserveOut(serviceAction, 0x01), parameters);
    }
}
