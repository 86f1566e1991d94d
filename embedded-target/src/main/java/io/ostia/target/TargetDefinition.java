package io.ostia.target;

import io.ostia.api.ChapCredentials;
import io.ostia.api.scsi.Luns;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** One target node being defined in {@link IscsiTarget.Builder#target}: its LUNs, alias and CHAP. */
public final class TargetDefinition {

    private final String name;
    private final Map<Integer, LunSpec> luns = new TreeMap<>();
    private String alias;
    private ChapCredentials chap;
    private int time2Wait;
    private int time2Retain;

    TargetDefinition(String name) {
        this.name = name;
    }

    /** Adds LUN {@code number} (0..{@link Luns#MAX_FLAT_LUN}, flat addressing). */
    public TargetDefinition lun(int number, LunSpec spec) {
        if (number < 0 || number > Luns.MAX_FLAT_LUN) {
            throw new IllegalArgumentException("LUN number must be in 0.." + Luns.MAX_FLAT_LUN + ", not " + number);
        }
        if (luns.putIfAbsent(number, spec) != null) {
            throw new IllegalArgumentException("LUN " + number + " of " + name + " is defined twice");
        }
        return this;
    }

    /** Adds a RAM LUN of {@code sizeBytes} (512-byte blocks) as the next free LUN number. */
    public TargetDefinition ramLun(long sizeBytes) {
        return lun(luns.isEmpty() ? 0 : ((TreeMap<Integer, LunSpec>) luns).lastKey() + 1, LunSpec.ram(sizeBytes));
    }

    /** The TargetAlias sent at login. */
    public TargetDefinition alias(String value) {
        this.alias = value;
        return this;
    }

    /**
     * Requires CHAP: the initiator must prove {@code credentials.user()/secret()}; with a target
     * user and secret, initiators asking for mutual CHAP get the target's proof.
     */
    public TargetDefinition chap(ChapCredentials credentials) {
        this.chap = credentials;
        return this;
    }

    /**
     * The DefaultTime2Wait and DefaultTime2Retain this target offers at login, in seconds
     * (0..3600; 0 and 0 unless set): an initiator waits at least the negotiated Time2Wait, the
     * larger of both sides' values, before logging in again after a lost connection.
     */
    public TargetDefinition recoveryTimes(int time2WaitSeconds, int time2RetainSeconds) {
        if (time2WaitSeconds < 0 || time2WaitSeconds > 3600 || time2RetainSeconds < 0 || time2RetainSeconds > 3600) {
            throw new IllegalArgumentException("DefaultTime2Wait and DefaultTime2Retain of " + name
                    + " must be in 0..3600 s, not " + time2WaitSeconds + " and " + time2RetainSeconds);
        }
        this.time2Wait = time2WaitSeconds;
        this.time2Retain = time2RetainSeconds;
        return this;
    }

    String name() {
        return name;
    }

    Map<Integer, LunSpec> luns() {
        return luns;
    }

    String alias() {
        return alias;
    }

    int time2Wait() {
        return time2Wait;
    }

    int time2Retain() {
        return time2Retain;
    }

    Optional<ChapCredentials> chapCredentials() {
        return Optional.ofNullable(chap);
    }
}
