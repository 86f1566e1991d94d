package io.ostia.api.pdu;

import java.util.OptionalInt;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The fields of a SCSI Command's header (RFC 7143 §11.3), as a view: what {@link
 * PduEncoder#encodeCommandHeader(CommandHeader, int, boolean, java.nio.ByteBuffer)} writes. The
 * {@link ScsiCommand} record is one; a session layer's task can be another, so that a transport
 * encodes the task's fields straight into its send buffer with no record per send.
 *
 * <p>The values must not change while a transport encodes them; the {@code cdb} array is read,
 * never kept.
 */
@ConsumerType
public interface CommandHeader {

    /** The I bit. */
    boolean immediate();

    /** The F bit as the session layer set it; a transport sends immediate data with its own F. */
    boolean finalFlag();

    /** The R bit. */
    boolean read();

    /** The W bit. */
    boolean write();

    ScsiCommand.TaskAttribute attribute();

    /** The LUN field, already in its eight-byte wire encoding. */
    long lun();

    int initiatorTaskTag();

    int expectedDataTransferLength();

    int cmdSN();

    int expStatSN();

    /** 1 to {@link ScsiCommand#MAX_CDB_LENGTH} bytes; more than 16 travel in an Extended CDB AHS. */
    byte[] cdb();

    OptionalInt expectedBidirectionalReadDataLength();
}
