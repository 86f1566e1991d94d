package io.ostia.api;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A logged-in iSCSI session (one connection, ErrorRecoveryLevel 0).
 *
 * <p>Commands may be issued from any thread; as many are in flight as the target's CmdSN
 * window and the session's queue depth allow, the rest wait their turn. When the connection
 * fails, the session reconnects with the same ISID and reissues what was in flight; commands
 * fail only when no new connection is up within the replacement timeout.
 */
@ProviderType
public interface Session extends AutoCloseable {

    String targetName();

    /** The name of the transport carrying the session now ("tcp", "iser"). */
    String transport();

    /** The initiator session ID (6 bytes, as a long) that identifies the I_T nexus. */
    long isid();

    /** The target-assigned session handle. */
    int tsih();

    /** The operational parameters the login settled on, as RFC 7143 keys and values. */
    java.util.Map<String, String> negotiatedParameters();

    /** REPORT LUNS: the LUNs the target offers this initiator. */
    List<Integer> reportLuns() throws IscsiException;

    /**
     * Opens a LUN as a block device: waits for it to be ready (TEST UNIT READY, retrying unit
     * attentions), then reads INQUIRY and READ CAPACITY.
     */
    BlockDevice open(int lun) throws IscsiException;

    /**
     * Sends a SCSI command as it is. The future completes with the status the target returned,
     * CHECK CONDITION included, and fails only for transport, protocol or timeout errors.
     */
    CompletableFuture<ScsiResult> execute(ScsiRequest request);

    /** A SCSI command as a blocking call; non-GOOD status throws {@link ScsiException}. */
    default ScsiResult executeOrThrow(ScsiRequest request) throws IscsiException {
        return Futures.await(execute(request)).orThrow(request.describe());
    }

    /** Sends a NOP-Out ping and waits for the NOP-In; returns the round trip in nanoseconds. */
    long ping() throws IscsiException;

    boolean isOpen();

    /**
     * Logs out: waits for in-flight commands (bounded by the command timeout), sends Logout and
     * closes the connection. Commands issued afterwards fail. Idempotent.
     */
    @Override
    void close() throws IscsiException;
}
