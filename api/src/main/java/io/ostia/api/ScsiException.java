package io.ostia.api;

import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import java.util.Optional;

/** A SCSI command completed with a status other than GOOD. */
public class ScsiException extends IscsiException {
    private final ScsiStatus status;
    private final transient SenseData sense;

    public ScsiException(String command, ScsiStatus status, SenseData sense) {
        super(command + " failed: " + status + (sense == null ? "" : ", " + sense));
        this.status = status;
        this.sense = sense;
    }

    public ScsiStatus status() {
        return status;
    }

    /** Decoded sense data, present with CHECK CONDITION when the target sent it. */
    public Optional<SenseData> sense() {
        return Optional.ofNullable(sense);
    }
}
