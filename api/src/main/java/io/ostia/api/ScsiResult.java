package io.ostia.api;

import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import java.util.Optional;

/**
 * How a passed-through SCSI command completed.
 *
 * @param status      the SCSI status
 * @param sense       sense data when the target sent it
 * @param residual    bytes not transferred: positive for an underflow, negative for an
 *                    overflow, 0 when the full expected length moved
 */
public record ScsiResult(ScsiStatus status, Optional<SenseData> sense, long residual) {

    /** GOOD, no sense, the whole length moved: the common answer, shared rather than made per command. */
    public static final ScsiResult GOOD = new ScsiResult(ScsiStatus.GOOD, Optional.empty(), 0);

    public boolean isGood() {
        return status == ScsiStatus.GOOD || status == ScsiStatus.CONDITION_MET;
    }

    /** Returns this result when GOOD, otherwise throws the matching {@link ScsiException}. */
    public ScsiResult orThrow(String command) throws ScsiException {
        if (!isGood()) {
            throw new ScsiException(command, status, sense.orElse(null));
        }
        return this;
    }
}
