package io.ostia.api.spi;

import io.ostia.api.pdu.ScsiCommand;
import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A SCSI command the session layer hands to a transport with its data buffer. The transport
 * moves the data its way (TCP: immediate data, unsolicited Data-Out, R2T and Data-Out, Data-In
 * into the buffer; iSER: RDMA Read and Write against the registered buffer) and delivers the
 * response to the {@link ConnectionOwner}.
 */
@ConsumerType
public interface TransportTask {

    /**
     * The command as the session layer built it: ITT, CmdSN, ExpStatSN, LUN, CDB, flags and
     * expected data transfer length, with no data segment. The transport adds immediate data and
     * sets the F bit as the negotiated parameters allow.
     */
    ScsiCommand command();

    /**
     * The data buffer, native memory: the source of a write, the destination of a read, zero
     * bytes for a command without data. Its size equals the expected data transfer length.
     * The transport touches it only between {@code sendTask} and the task's response, cleanup
     * or the connection's stop.
     */
    MemorySegment buffer();
}
