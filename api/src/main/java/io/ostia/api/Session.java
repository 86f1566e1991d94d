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
     * Moves the session to a new connection over the transport named {@code transportName}
     * ("tcp", "iser"), the same one it runs on included, and blocks until it runs there: new
     * commands wait, those in flight finish (bounded by the transport's release timeout; what is
     * left is sent again), Logout, then Login with the same ISID, so the I_T nexus and its
     * persistent reservations stay; the unit attention the target may raise for the new login
     * is handled inside the session. No command fails because of the move.
     *
     * @return how long commands were held (the I/O pause)
     * @throws TransportException the transport is not available or could not log in; the
     *                            session then carries on over its transport preference, and the
     *                            message says where
     * @throws IscsiException     the session is closed, or it failed while moving
     * @throws IllegalStateException called from the thread that delivers the session's answers,
     *                            which the move would wait for
     */
    java.time.Duration switchTransport(String transportName) throws IscsiException;

    /** Adds a listener for this session's events from now on; adding one twice adds it once. */
    void addListener(SessionListener listener);

    /** Removes a listener; unknown ones are ignored. */
    void removeListener(SessionListener listener);

    /**
     * Logs out: waits for in-flight commands (bounded by the command timeout), sends Logout and
     * closes the connection. Commands issued afterwards fail. Idempotent.
     */
    @Override
    void close() throws IscsiException;
}
