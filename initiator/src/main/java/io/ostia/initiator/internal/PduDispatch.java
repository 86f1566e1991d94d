package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.ProtocolException;
import io.ostia.api.ScsiResult;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.AsyncMessage;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.FullFeatureTargetPdu;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.Reject;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.ScsiResponseHolder;
import io.ostia.api.pdu.TaskManagementResponse;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.pdu.TextResponse;
import io.ostia.api.scsi.Luns;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.scsi.SenseData;
import io.ostia.api.scsi.SenseKey;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What the target sends in full-feature phase, taken apart on the transport's receive thread:
 * StatSN and the command window first, then the command's completion, the waiting request's
 * answer, a NOP-In, an async event or a reject.
 *
 * <p>Nothing here waits for the target, and nothing sends: what needs a send (the waiting
 * commands, a NOP-In reply, a reconnect) goes to the session's worker; the only lock taken is
 * the send lock, briefly, when a PDU fails the connection. The window moves before the completion, so
 * that a caller's dependent action, which may issue its next command on this very thread (the
 * fastest path, as libiscsi's event loop), sees the room the answer made. PDUs of a connection
 * the session has left are dropped.
 */
final class PduDispatch {

    private static final System.Logger LOG = IscsiSession.LOG;
    private static final int RESERVED_TAG = Pdu.RESERVED_TAG;
    /** Reset unit attentions queue up per LUN (power on, then I_T nexus loss...): a few resends clear them. */
    private static final int MAX_RESET_ATTENTIONS = 4;
    private static final int RESET_ASC = 0x29;

    private final IscsiSession session;
    private final CommandQueue queue;
    // Read for every PDU, so held here rather than reached through the session.
    private final CommandWindow window;
    private final TaskTagTable<Task> tasks;
    private final Logout logout;
    private final Timeouts timeouts;

    PduDispatch(IscsiSession session) {
        this.session = session;
        this.queue = session.queue;
        this.window = queue.window;
        this.tasks = queue.tasks;
        this.logout = session.logout;
        this.timeouts = session.timeouts;
    }

    /** One PDU from {@code conn}, in the order the target sent them; receive thread. */
    void pduReceived(SessionConnection conn, Pdu pdu) {
        if (conn != session.current) {
            return;
        }
        timeouts.received();
        if (pdu instanceof FullFeatureTargetPdu status && status.statusPresent()) {
            // Before the completion: a dependent command issued from it must see the new window.
            statusReceived(conn, status.statSN(), status.expCmdSN(), status.maxCmdSN());
        }
        switch (pdu) {
            case ScsiResponse r -> completeTask(r.initiatorTaskTag(), r.response(), r.status(), r.data(),
                    residual(r.residualUnderflow(), r.residualOverflow(), r.residualCount()));
            case DataIn d when d.statusPresent() -> completeTask(d.initiatorTaskTag(), 0, d.status(), Pdu.NO_DATA,
                    residual(d.residualUnderflow(), d.residualOverflow(), d.residualCount()));
            case NopIn n -> nopIn(conn, n);
            case TaskManagementResponse _, LogoutResponse _, TextResponse _ -> session.requests.answer(pdu.initiatorTaskTag(), pdu);
            case AsyncMessage m -> asyncMessage(conn, m);
            case Reject r -> reject(conn, r);
            default -> session.recovery.connectionFailed(conn, new ProtocolException("Opcode",
                    pdu.opcode() + " is not expected in full-feature phase of a normal session"));
        }
    }

    /** A SCSI Response in the transport's holder: as {@link #pduReceived}, with nothing kept of it; receive thread. */
    void scsiResponseReceived(SessionConnection conn, ScsiResponseHolder r) {
        if (conn != session.current) {
            return;
        }
        timeouts.received();
        statusReceived(conn, r.statSN(), r.expCmdSN(), r.maxCmdSN());
        completeTask(r.initiatorTaskTag(), r.response(), r.status(), Pdu.NO_DATA,
                residual(r.residualUnderflow(), r.residualOverflow(), r.residualCount()));
    }

    /** The residual as {@link ScsiResult} counts it: positive for an underflow, negative for an overflow. */
    private static long residual(boolean underflow, boolean overflow, int count) {
        return underflow ? count : overflow ? -count : 0;
    }

    /** A window the transport read from a PDU it keeps (Data-In without status, R2T). */
    void commandWindowUpdate(SessionConnection conn, int expCmdSN, int maxCmdSN) {
        if (conn == session.current && window.update(expCmdSN, maxCmdSN)) {
            queue.schedulePump();
        }
    }

    private void statusReceived(SessionConnection conn, int statSN, int expCmdSN, int maxCmdSN) {
        conn.statSNReceived(statSN);
        if (window.update(expCmdSN, maxCmdSN)) {
            queue.schedulePump();
        }
    }

    private void completeTask(int itt, int response, int status, MemorySegment data, long residual) {
        Task task = tasks.remove(itt);
        logout.settle();
        if (task == null) {
            // An aborted or cleaned-up task's response may still cross the wire.
            LOG.log(System.Logger.Level.DEBUG, () -> String.format("response for unknown ITT 0x%08x ignored", itt));
            return;
        }
        queue.schedulePump();
        if (response != 0) {
            task.fail(new IscsiException(String.format(
                    "%s: target failure (iSCSI response 0x%02x), status not valid", task, response)));
            return;
        }
        ScsiStatus scsiStatus;
        try {
            scsiStatus = ScsiStatus.of(status);
        } catch (IllegalArgumentException e) {
            task.fail(new ProtocolException("Status", task + ": " + e.getMessage()));
            return;
        }
        Optional<SenseData> sense;
        try {
            sense = senseIn(data);
        } catch (ProtocolException e) {
            task.fail(new ProtocolException(e.field(), task + ": " + e.getMessage()));
            return;
        }
        if (scsiStatus == ScsiStatus.CHECK_CONDITION && session.recovery.reinstated && isResetAttention(sense)
                && task.resetAttentions++ < MAX_RESET_ATTENTIONS) {
            // The target greets the reinstated I_T nexus with a reset unit attention; the command
            // was not executed, and the reset is the session's own doing: send it again.
            LOG.log(System.Logger.Level.INFO, () -> task + " met " + sense.orElseThrow() + " after a re-login; sent again");
            queue.resubmit(task);
            return;
        }
        task.complete(scsiStatus == ScsiStatus.GOOD && sense.isEmpty() && residual == 0 ? ScsiResult.GOOD
                : new ScsiResult(scsiStatus, sense, residual));
    }

    /** A unit attention of the reset family (ASC 29h: power on, reset, I_T nexus loss). */
    private static boolean isResetAttention(Optional<SenseData> sense) {
        return sense.isPresent() && sense.get().key() == SenseKey.UNIT_ATTENTION
                && sense.get().additional().asc() == RESET_ASC;
    }

    private void nopIn(SessionConnection conn, NopIn n) {
        if (n.initiatorTaskTag() != RESERVED_TAG) {
            // Our ping's answer: StatSN is valid but not advanced (RFC 7143 11.19).
            window.update(n.expCmdSN(), n.maxCmdSN());
            if (!timeouts.keepaliveAnswered(n.initiatorTaskTag())) {
                session.requests.answer(n.initiatorTaskTag(), n);
            }
            return;
        }
        if (window.update(n.expCmdSN(), n.maxCmdSN())) {
            queue.schedulePump();
        }
        if (n.targetTransferTag() != RESERVED_TAG) {
            // The target pings us: answer with its TTT and its ping data, off the receive thread.
            MemorySegment echo = n.data().byteSize() == 0 ? Pdu.NO_DATA
                    : MemorySegment.ofArray(n.data().toArray(ValueLayout.JAVA_BYTE));
            session.runOnWorker(() -> {
                try {
                    conn.send(new NopOut(true, n.lun(), RESERVED_TAG, n.targetTransferTag(), window.peek(),
                            conn.expStatSN(), echo));
                } catch (TransportException e) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "NOP-Out reply not sent: " + e.getMessage());
                }
            });
        }
    }

    private void asyncMessage(SessionConnection conn, AsyncMessage m) {
        switch (m.event()) {
            case SCSI_ASYNC_EVENT -> LOG.log(System.Logger.Level.INFO, () -> session.targetName + " reports a SCSI event on LUN "
                    + Luns.decode(m.lun()) + describeSense(m.data()));
            case LOGOUT_REQUESTED -> {
                LOG.log(System.Logger.Level.INFO, () -> session.targetName + " asks for logout within " + m.parameter3()
                        + " s; logging out and back in");
                session.recovery.targetRequested(conn);
            }
            case CONNECTION_DROPPED, SESSION_DROPPED -> session.recovery.connectionFailed(conn, new TransportException(session.targetName
                    + " dropped the " + (m.event() == AsyncMessage.Event.SESSION_DROPPED ? "session" : "connection")
                    + " (Time2Wait " + m.parameter2() + " s, Time2Retain " + m.parameter3() + " s)"),
                    Duration.ofSeconds(m.parameter2()));
            case NEGOTIATION_REQUESTED -> session.recovery.targetRequested(conn);
            default -> LOG.log(System.Logger.Level.WARNING, () -> session.targetName + " sent async event " + m.event()
                    + " (vendor code " + m.vendorCode() + "), ignored");
        }
    }

    private static String describeSense(MemorySegment data) {
        try {
            return senseIn(data).map(sense -> ": " + sense).orElse("");
        } catch (ProtocolException e) {
            return " (undecodable sense: " + e.getMessage() + ")";
        }
    }

    /** The sense data of a SCSI Response or Async Message data segment: SenseLength, then the sense bytes. */
    private static Optional<SenseData> senseIn(MemorySegment data) throws ProtocolException {
        if (data.byteSize() < 2) {
            return Optional.empty();
        }
        int length = Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0));
        if (length == 0) {
            return Optional.empty();
        }
        if (length > data.byteSize() - 2) {
            throw new ProtocolException("SenseLength", "SenseLength " + length + " exceeds the "
                    + (data.byteSize() - 2) + " bytes of sense data sent");
        }
        byte[] bytes = data.asSlice(2, length).toArray(ValueLayout.JAVA_BYTE);
        try {
            return Optional.of(SenseData.decode(bytes, 0, length));
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("SenseData", e.getMessage(), e);
        }
    }

    private void reject(SessionConnection conn, Reject r) {
        // The data segment is the rejected PDU's header: its ITT is at bytes 16..19.
        if (r.data().byteSize() < 48) {
            session.recovery.connectionFailed(conn, new ProtocolException("DataSegmentLength",
                    "Reject (" + r.reason() + ") without the rejected header"));
            return;
        }
        int itt = r.data().get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 16);
        ProtocolException error = new ProtocolException("Reject",
                String.format("%s rejected the PDU with ITT 0x%08x: %s", session.targetName, itt, r.reason()));
        Task task = tasks.remove(itt);
        if (task != null) {
            logout.settle();
            task.fail(error);
            queue.schedulePump();
            return;
        }
        CompletableFuture<Pdu> request = session.requests.remove(itt);
        if (request != null) {
            request.completeExceptionally(error);
            return;
        }
        LOG.log(System.Logger.Level.WARNING, error::getMessage);
    }
}
