package io.ostia.target.internal.scsi;

import io.ostia.api.scsi.AdditionalSense;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Persistent reservations (SPC-4 5.7) and SPC-2 RESERVE/RELEASE for one logical unit, keyed by
 * I_T nexus. Callers hold the logical unit's reservation lock.
 */
final class Reservations {

    static final int WRITE_EXCLUSIVE = 1;
    static final int EXCLUSIVE_ACCESS = 3;
    static final int WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 5;
    static final int EXCLUSIVE_ACCESS_REGISTRANTS_ONLY = 6;
    static final int WRITE_EXCLUSIVE_ALL_REGISTRANTS = 7;
    static final int EXCLUSIVE_ACCESS_ALL_REGISTRANTS = 8;

    static final AdditionalSense INVALID_RELEASE = new AdditionalSense(0x26, 0x04);

    private final Map<Nexus, Long> registrations = new LinkedHashMap<>();
    private int generation;
    private Nexus holder;
    private int type;
    /** SPC-2 RESERVE(6) holder, or null. */
    private Nexus legacyHolder;
    /** Receives unit attentions this class raises for other nexuses. */
    private final BiConsumer<Nexus, AdditionalSense> unitAttention;

    Reservations(BiConsumer<Nexus, AdditionalSense> unitAttention) {
        this.unitAttention = unitAttention;
    }

    private static boolean allRegistrants(int type) {
        return type == WRITE_EXCLUSIVE_ALL_REGISTRANTS || type == EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
    }

    private static boolean registrantsOnly(int type) {
        return type == WRITE_EXCLUSIVE_REGISTRANTS_ONLY || type == EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
    }

    private boolean isHolder(Nexus nexus) {
        if (holder == null) {
            return false;
        }
        return allRegistrants(type) ? registrations.containsKey(nexus) : holder.equals(nexus);
    }

    /**
     * Whether a command from {@code nexus} conflicts with a reservation.
     *
     * @param writes whether the command modifies the medium (or is otherwise barred under
     *               Write Exclusive)
     */
    boolean conflicts(Nexus nexus, boolean writes) {
        if (legacyHolder != null && !legacyHolder.equals(nexus)) {
            return true;
        }
        if (holder == null || isHolder(nexus)) {
            return false;
        }
        boolean registered = registrations.containsKey(nexus);
        return switch (type) {
            case WRITE_EXCLUSIVE -> writes;
            case EXCLUSIVE_ACCESS -> true;
            case WRITE_EXCLUSIVE_REGISTRANTS_ONLY, WRITE_EXCLUSIVE_ALL_REGISTRANTS -> writes && !registered;
            case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> !registered;
            default -> false;
        };
    }

    // ---- SPC-2 RESERVE(6) / RELEASE(6)

    void reserve6(Nexus nexus) throws ScsiStatusException {
        if (holder != null || (legacyHolder != null && !legacyHolder.equals(nexus))) {
            throw ScsiStatusException.reservationConflict();
        }
        legacyHolder = nexus;
    }

    void release6(Nexus nexus) throws ScsiStatusException {
        if (holder != null && !isHolder(nexus)) {
            throw ScsiStatusException.reservationConflict();
        }
        if (nexus.equals(legacyHolder)) {
            legacyHolder = null;
        }
    }

    /** The I_T nexus is gone (logout, connection loss): SPC-2 reservations end with it. */
    void nexusLost(Nexus nexus) {
        if (nexus.equals(legacyHolder)) {
            legacyHolder = null;
        }
    }

    /** LUN reset / target reset: SPC-2 reservations end, persistent ones survive. */
    void reset() {
        legacyHolder = null;
    }

    // ---- PERSISTENT RESERVE IN

    byte[] readKeys() {
        byte[] out = new byte[8 + 8 * registrations.size()];
        Bytes.put32(out, 0, generation);
        Bytes.put32(out, 4, 8L * registrations.size());
        int off = 8;
        for (long key : registrations.values()) {
            Bytes.put64(out, off, key);
            off += 8;
        }
        return out;
    }

    byte[] readReservation() {
        if (holder == null) {
            byte[] out = new byte[8];
            Bytes.put32(out, 0, generation);
            return out;
        }
        byte[] out = new byte[24];
        Bytes.put32(out, 0, generation);
        Bytes.put32(out, 4, 16);
        Bytes.put64(out, 8, allRegistrants(type) ? 0 : registrations.getOrDefault(holder, 0L));
        out[21] = (byte) type;
        return out;
    }

    static byte[] reportCapabilities() {
        byte[] out = new byte[8];
        Bytes.put16(out, 0, 8);
        out[2] = 0x10; // CRH: RESERVE(6)/RELEASE(6) handled per SPC-4 5.7.3 ("compatible reservation handling")
        out[3] = (byte) 0x80; // TMV: the type mask below is valid; ALLOW COMMANDS 0; persist-through-power-loss not supported
        out[4] = (byte) (0x80 | 0x40 | 0x20 | 0x08 | 0x02); // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
        out[5] = 0x01; // EX_AC_AR
        return out;
    }

    byte[] readFullStatus() {
        List<byte[]> descriptors = new ArrayList<>();
        int total = 0;
        for (Map.Entry<Nexus, Long> e : registrations.entrySet()) {
            byte[] transportId = transportId(e.getKey());
            byte[] d = new byte[24 + transportId.length];
            Bytes.put64(d, 0, e.getValue());
            if (isHolder(e.getKey())) {
                d[12] = 0x01; // R_HOLDER
                d[13] = (byte) type;
            }
            Bytes.put16(d, 18, e.getKey().tpgt());
            Bytes.put32(d, 20, transportId.length);
            System.arraycopy(transportId, 0, d, 24, transportId.length);
            descriptors.add(d);
            total += d.length;
        }
        byte[] out = new byte[8 + total];
        Bytes.put32(out, 0, generation);
        Bytes.put32(out, 4, total);
        int off = 8;
        for (byte[] d : descriptors) {
            System.arraycopy(d, 0, out, off, d.length);
            off += d.length;
        }
        return out;
    }

    /** iSCSI TransportID, format 01b (initiator port name with ISID), SPC-4 7.6.4.6. */
    private static byte[] transportId(Nexus nexus) {
        byte[] name = nexus.initiatorPortName().getBytes(StandardCharsets.UTF_8);
        int nameLength = (name.length + 1 + 3) & ~3; // null-terminated, padded to a multiple of 4
        byte[] id = new byte[4 + Math.max(nameLength, 20)];
        id[0] = 0x45; // FORMAT CODE 01b, PROTOCOL IDENTIFIER 5 (iSCSI)
        Bytes.put16(id, 2, id.length - 4);
        System.arraycopy(name, 0, id, 4, name.length);
        return id;
    }

    // ---- PERSISTENT RESERVE OUT

    /**
     * Runs a PERSISTENT RESERVE OUT service action.
     *
     * @param serviceAction CDB byte 1 bits 4..0
     * @param scopeType     CDB byte 2
     * @param params        the 24-byte basic parameter list
     */
    void out(Nexus nexus, int serviceAction, int scopeType, byte[] params) throws ScsiStatusException {
        long key = Bytes.u64(params, 0);
        long serviceKey = Bytes.u64(params, 8);
        int flags = params[20] & 0xff;
        if ((flags & 0x08) != 0) {
            throw ScsiStatusException.invalidParameter(20, 3); // SPEC_I_PT: not supported
        }
        if ((flags & 0x01) != 0) {
            throw ScsiStatusException.invalidParameter(20, 0); // APTPL: nothing persists through power loss
        }
        Long registered = registrations.get(nexus);
        switch (serviceAction) {
            case 0x00 -> register(nexus, registered, key, serviceKey, false);
            case 0x06 -> register(nexus, registered, key, serviceKey, true);
            case 0x01 -> reserve(nexus, registered, key, scopeType);
            case 0x02 -> release(nexus, registered, key, scopeType);
            case 0x03 -> clear(nexus, registered, key);
            case 0x04, 0x05 -> preempt(nexus, registered, key, serviceKey, scopeType);
            default -> throw ScsiStatusException.invalidCdb(1, 4);
        }
    }

    private void register(Nexus nexus, Long registered, long key, long serviceKey, boolean ignoreExisting)
            throws ScsiStatusException {
        if (registered == null) {
            if (!ignoreExisting && key != 0) {
                throw ScsiStatusException.reservationConflict();
            }
            if (serviceKey != 0) {
                registrations.put(nexus, serviceKey);
            }
            generation++;
            return;
        }
        if (!ignoreExisting && registered != key) {
            throw ScsiStatusException.reservationConflict();
        }
        if (serviceKey != 0) {
            registrations.put(nexus, serviceKey);
        } else {
            unregister(nexus);
        }
        generation++;
    }

    private void unregister(Nexus nexus) {
        boolean wasHolder = isHolder(nexus);
        registrations.remove(nexus);
        if (!wasHolder) {
            return;
        }
        if (allRegistrants(type)) {
            if (registrations.isEmpty()) {
                holder = null;
            } else if (holder.equals(nexus)) {
                holder = registrations.keySet().iterator().next();
            }
        } else {
            int releasedType = type;
            holder = null;
            if (registrantsOnly(releasedType)) {
                notifyRegistrants(nexus, AdditionalSense.RESERVATIONS_RELEASED);
            }
        }
    }

    private void reserve(Nexus nexus, Long registered, long key, int scopeType) throws ScsiStatusException {
        checkKey(registered, key);
        int scope = scopeType >>> 4;
        int requested = scopeType & 0x0f;
        if (scope != 0) {
            throw ScsiStatusException.invalidCdb(2, 4);
        }
        checkType(requested);
        if (holder == null) {
            if (legacyHolder != null && !legacyHolder.equals(nexus)) {
                throw ScsiStatusException.reservationConflict();
            }
            holder = nexus;
            type = requested;
            return;
        }
        if (!isHolder(nexus) || type != requested) {
            throw ScsiStatusException.reservationConflict();
        }
    }

    private void release(Nexus nexus, Long registered, long key, int scopeType) throws ScsiStatusException {
        checkKey(registered, key);
        if (holder == null || !isHolder(nexus)) {
            return;
        }
        if ((scopeType >>> 4) != 0) {
            throw ScsiStatusException.invalidCdb(2, 4);
        }
        if ((scopeType & 0x0f) != type) {
            throw ScsiStatusException.illegal(INVALID_RELEASE);
        }
        int releasedType = type;
        holder = null;
        if (registrantsOnly(releasedType) || allRegistrants(releasedType)) {
            notifyRegistrants(nexus, AdditionalSense.RESERVATIONS_RELEASED);
        }
    }

    private void clear(Nexus nexus, Long registered, long key) throws ScsiStatusException {
        checkKey(registered, key);
        notifyRegistrants(nexus, AdditionalSense.RESERVATIONS_PREEMPTED);
        registrations.clear();
        holder = null;
        generation++;
    }

    private void preempt(Nexus nexus, Long registered, long key, long serviceKey, int scopeType)
            throws ScsiStatusException {
        checkKey(registered, key);
        int requested = scopeType & 0x0f;
        if (holder == null || (!allRegistrants(type) && registrations.getOrDefault(holder, 0L) != serviceKey)) {
            // No reservation to take over, or the key is not the holder's: only registrations go.
            if (serviceKey == 0) {
                throw ScsiStatusException.invalidParameter(8, -1);
            }
            if (!removeRegistrations(nexus, serviceKey)) {
                throw ScsiStatusException.reservationConflict();
            }
            generation++;
            return;
        }
        if ((scopeType >>> 4) != 0) {
            throw ScsiStatusException.invalidCdb(2, 4);
        }
        checkType(requested);
        if (allRegistrants(type) && serviceKey != 0) {
            removeRegistrations(nexus, serviceKey);
            generation++;
            return;
        }
        if (allRegistrants(type)) {
            for (Nexus other : List.copyOf(registrations.keySet())) {
                if (!other.equals(nexus)) {
                    registrations.remove(other);
                    unitAttention.accept(other, AdditionalSense.REGISTRATIONS_PREEMPTED);
                }
            }
        } else {
            removeRegistrations(nexus, serviceKey);
        }
        int oldType = type;
        holder = nexus;
        type = requested;
        if (oldType != requested) {
            notifyRegistrants(nexus, AdditionalSense.RESERVATIONS_RELEASED);
        }
        generation++;
    }

    /** Removes every registration with {@code key} except the preempting nexus's own. */
    private boolean removeRegistrations(Nexus preempter, long key) {
        boolean any = false;
        for (Nexus other : List.copyOf(registrations.keySet())) {
            if (registrations.get(other) == key && !other.equals(preempter)) {
                registrations.remove(other);
                unitAttention.accept(other, AdditionalSense.REGISTRATIONS_PREEMPTED);
                any = true;
            } else if (registrations.get(other) == key) {
                any = true;
            }
        }
        return any;
    }

    private void notifyRegistrants(Nexus except, AdditionalSense asc) {
        for (Nexus other : registrations.keySet()) {
            if (!other.equals(except)) {
                unitAttention.accept(other, asc);
            }
        }
    }

    private static void checkKey(Long registered, long key) throws ScsiStatusException {
        if (registered == null || registered != key) {
            throw ScsiStatusException.reservationConflict();
        }
    }

    private static void checkType(int requested) throws ScsiStatusException {
        switch (requested) {
            case WRITE_EXCLUSIVE, EXCLUSIVE_ACCESS, WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
                 EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, WRITE_EXCLUSIVE_ALL_REGISTRANTS,
                 EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> {
            }
            default -> throw ScsiStatusException.invalidCdb(2, 3);
        }
    }

    /** PERSISTENT RESERVE IN: READ KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS. */
    synchronized void persistentReserveIn(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        byte[] out;
        out = switch (cdb[1] & 0x1f) {
            case 0x00 -> readKeys();
            case 0x01 -> readReservation();
            case 0x02 -> reportCapabilities();
            case 0x03 -> readFullStatus();
            default -> throw ScsiStatusException.invalidCdb(1, 4);
        };
        t.returnData(out, out.length, Bytes.u16(cdb, 7));
    }

    /** PERSISTENT RESERVE OUT: checks the CDB and parameter list, then runs the service action. */
    synchronized void persistentReserveOut(ScsiTask t) throws ScsiStatusException {
        byte[] cdb = t.cdb();
        long listLength = Bytes.u32(cdb, 5);
        t.transferLength(listLength);
        int serviceAction = cdb[1] & 0x1f;
        if (serviceAction > 0x06) {
            throw ScsiStatusException.invalidCdb(1, 4); // REGISTER AND MOVE and reserved actions
        }
        if (listLength != 24) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        if (t.dataOut().byteSize() < 24) {
            throw ScsiStatusException.illegal(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] params = t.dataOut().asSlice(0, 24).toArray(ValueLayout.JAVA_BYTE);
        out(t.nexus(), serviceAction, Bytes.u8(cdb, 2), params);
    }
}
