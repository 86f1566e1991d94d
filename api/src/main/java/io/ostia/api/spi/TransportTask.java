package io.ostia.api.spi;

import io.ostia.api.pdu.CommandHeader;
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
     * sets the F bit as the negotiated parameters allow. May build a record per call: a transport
     * reads the fields from {@link #header()} on its send path.
     */
    ScsiCommand command();

    /**
     * The same fields as {@link #command()}, as a view the transport encodes straight into its
     * send buffer ({@link io.ostia.api.pdu.PduEncoder#encodeCommandHeader(CommandHeader, int,
     * boolean, java.nio.ByteBuffer)}), so a send costs no record. Valid from {@code sendTask} until
     * the task's response, cleanup or the connection's stop; the session layer does not renumber
     * a task meanwhile. By default the command itself.
     *
     * @since 0.4
     */
    default CommandHeader header() {
        return command();
    }

    /**
     * The data buffer, native memory: the source of a write, the destination of a read, zero
     * bytes for a command without data. Its size equals the expected data transfer length.
     * The transport touches it only between {@code sendTask} and the task's response, cleanup
     * or the connection's stop.
     */
    MemorySegment buffer();
}
