package io.ostia.transport.tcp.internal;

import io.ostia.api.ProtocolException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.ReadyToTransfer;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.TaskTagTable;
import io.ostia.api.spi.TransportTask;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A bind's data movement: the task table keyed by initiator task tag, immediate and
 * unsolicited data when a command goes out, Data-Out for each R2T, Data-In straight into the
 * task buffer, and the end of a task (response, cleanup, stop) once nobody touches its buffer.
 *
 * <p>Commands come from callers' threads; R2Ts, Data-In and responses from the receive thread,
 * which answers an R2T itself. Each task's own lock guards its buffer (see {@link TaskState}).
 */
final class DataMover {

    private static final System.Logger LOG = System.getLogger(DataMover.class.getName());
    /** A Data-Out with this TargetTransferTag is unsolicited (RFC 7143 §11.7.4). */
    private static final int UNSOLICITED_TTT = 0xffffffff;
    /** Fewer in flight than this: the receive thread may poll for the answer rather than sleep. */
    private static final int SPIN_MAX_IN_FLIGHT = 2;

    private final Binding binding;
    private final TcpTransportOptions options;
    private final String peer;
    private final TaskTagTable<TaskState> tasks = new TaskTagTable<>(64);
    /** The task whose Data-In segment the decoder is reading now; its lock is held. Receive thread only. */
    private TaskState placing;

    DataMover(Binding binding, TcpTransportOptions options, String peer) {
        this.binding = binding;
        this.options = options;
        this.peer = peer;
    }

    /**
     * Sends a command with what unsolicited data the parameters allow: immediate data up to
     * min(FirstBurstLength, the target's MaxRecvDataSegmentLength); with InitialR2T=No also
     * Data-Out PDUs (TargetTransferTag 0xffffffff) up to FirstBurstLength in all.
     */
    void sendTask(TransportTask task, TcpParameters parameters) throws TransportException {
        // TCP sends a record (its sender takes PDUs); iSER encodes task.header() in place.
        ScsiCommand command = task.command();
        MemorySegment buffer = task.buffer();
        TaskState.checkTask(command, buffer);
        long length = buffer.byteSize();
        long immediate = 0;
        long unsolicited = 0;
        if (command.write() && length > 0) {
            if (parameters.immediateData()) {
                immediate = Math.min(length, Math.min(parameters.firstBurstLength(),
                        parameters.targetMaxRecvDataSegmentLength()));
            }
            unsolicited = parameters.initialR2T() ? immediate : Math.min(length, parameters.firstBurstLength());
        }
        boolean dataOutFollows = unsolicited > immediate;
        ScsiCommand wire = command.withImmediateData(TaskState.slice(buffer, 0, immediate), !dataOutFollows);
        TaskState state = new TaskState(task, wire);
        TaskState previous = tasks.putIfAbsent(state.itt(), state);
        if (previous != null) {
            throw new TransportException("task tag " + TaskState.hex(state.itt()) + " is already in flight on the "
                    + "connection to " + peer);
        }
        // The task holds its own lock while its data goes out, so a response or cleanup that
        // comes meanwhile waits until the buffer is no longer read; a read sends none.
        boolean dataLeaves = immediate > 0 || dataOutFollows;
        if (dataLeaves) {
            state.lock.lock();
        }
        try {
            try {
                binding.send(wire);
            } catch (TransportException e) {
                tasks.remove(state.itt(), state);
                throw e;
            }
            if (dataOutFollows) {
                sendDataOut(state, UNSOLICITED_TTT, immediate, unsolicited - immediate, command.expStatSN(),
                        parameters);
            }
        } finally {
            if (dataLeaves) {
                state.lock.unlock();
            }
        }
    }

    /**
     * One sequence of Data-Out PDUs: at most the target's MaxRecvDataSegmentLength each, DataSN
     * from 0, F on the last. The caller holds the task's lock.
     */
    private void sendDataOut(TaskState state, int targetTransferTag, long offset, long length, int expStatSN,
            TcpParameters parameters) throws TransportException {
        long end = offset + length;
        int dataSN = 0;
        for (long at = offset; at < end; at += parameters.targetMaxRecvDataSegmentLength()) {
            long chunk = Math.min(parameters.targetMaxRecvDataSegmentLength(), end - at);
            binding.sendDataOut(at + chunk == end, state.command.lun(), state.itt(), targetTransferTag, expStatSN,
                    dataSN++, (int) at, state.dataOutView(at, chunk));
        }
    }

    void cleanupTask(TransportTask task) {
        int itt = task.header().initiatorTaskTag();
        TaskState state = tasks.get(itt);
        if (state == null || state.task != task || !tasks.remove(itt, state)) {
            return;
        }
        finish(state, "cleanup");
    }

    /** A SCSI Response ended the task: it is forgotten once nobody touches its buffer. */
    void responseReceived(int initiatorTaskTag) {
        TaskState state = tasks.remove(initiatorTaskTag);
        if (state != null) {
            finish(state, "SCSI Response");
        }
    }

    /** Stop: every task is forgotten once nobody touches its buffer. */
    void finishAll() {
        List<TaskState> all = tasks.removeAll();
        for (TaskState state : all) {
            finish(state, "connection stop");
        }
    }

    /** Tasks in flight on the connection (sent, or batched to be sent). */
    int inFlight() {
        return tasks.size();
    }

    /** One or two commands await their response: worth polling for the answer. */
    boolean awaitingFewResponses() {
        int inFlight = tasks.size();
        return inFlight > 0 && inFlight <= SPIN_MAX_IN_FLIGHT;
    }

    /**
     * Waits until nobody touches the task's buffer. A placement or send stalled for longer than
     * the progress timeout fails the connection, which ends it, and is waited for once more.
     */
    private void finish(TaskState state, String why) {
        long timeout = options.progressTimeout().toNanos();
        try {
            if (state.finishWithin(timeout)) {
                return;
            }
            binding.fail(new TransportException("the data of task " + TaskState.hex(state.itt()) + " on the connection to "
                    + peer + " was still moving " + options.progressTimeout().toMillis() + " ms after its " + why
                    + " (the transport's progress timeout)"));
            if (!state.finishWithin(timeout)) {
                LOG.log(Level.ERROR, "task " + TaskState.hex(state.itt()) + " on the connection to " + peer
                        + " is still in use by a stuck thread after its " + why + "; its buffer may still be touched");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.log(Level.ERROR, "interrupted while finishing task " + TaskState.hex(state.itt()) + " after its "
                    + why + "; its buffer may still be touched", e);
        }
    }

    /**
     * The decoder asks where a Data-In's data segment goes. Data of a known task lands straight
     * in the task buffer at its BufferOffset, after the checks; the task's lock is held until the
     * segment is complete. Data of a task cleaned up meanwhile goes to a segment the decoder
     * allocates (everything else with data, login text and sense data, too: see {@link Receiver}).
     */
    MemorySegment placeDataIn(int initiatorTaskTag, int dataSN, int bufferOffset, int dataSegmentLength) {
        TaskState state = tasks.get(initiatorTaskTag);
        if (state == null) {
            return null;
        }
        state.lock.lock();
        boolean placed = false;
        try {
            if (state.finished()) {
                return null;
            }
            state.acceptDataIn(dataSN, bufferOffset, dataSegmentLength, peer);
            placing = state;
            placed = true;
            return state.buffer.asSlice(Integer.toUnsignedLong(bufferOffset), dataSegmentLength);
        } catch (ProtocolException e) {
            throw new PlacementRefused(e);
        } finally {
            if (!placed) {
                state.lock.unlock();
            }
        }
    }

    /** Unlocks the task a placement left locked (its segment is complete, or the receive loop ended). */
    void releasePlacing() {
        if (placing != null) {
            placing.lock.unlock();
            placing = null;
        }
    }

    void dataInReceived(DataIn dataIn) throws ProtocolException {
        TaskState state = placing;
        if (state != null) {
            releasePlacing();
        } else if (dataIn.dataSegmentLength() == 0) {
            state = acceptEmptyDataIn(dataIn);
        }
        if (!dataIn.statusPresent()) {
            if (state == null) {
                LOG.log(Level.DEBUG, () -> "Data-In from " + peer + " for task " + TaskState.hex(
                        dataIn.initiatorTaskTag()) + ", which is not in flight here: its data is dropped");
            }
            binding.windowUpdate(dataIn.expCmdSN(), dataIn.maxCmdSN());
            return;
        }
        TaskState done = tasks.remove(dataIn.initiatorTaskTag());
        if (done != null) {
            finish(done, "status in a Data-In");
        }
        binding.deliver(dataIn);
    }

    /** A Data-In without data gets the same DataSN check; no placement was asked for it. */
    private TaskState acceptEmptyDataIn(DataIn dataIn) throws ProtocolException {
        TaskState state = tasks.get(dataIn.initiatorTaskTag());
        if (state == null) {
            return null;
        }
        state.lock.lock();
        try {
            if (state.finished()) {
                return null;
            }
            state.acceptDataIn(dataIn.dataSN(), dataIn.bufferOffset(), 0, peer);
            return state;
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * Answers an R2T at once from this thread, so a connection has one R2T in progress at a
     * time, within any MaxOutstandingR2T (at least 1), and R2Ts are answered in the order sent.
     */
    void r2tReceived(ReadyToTransfer r2t, TcpParameters current) throws TransportException, ProtocolException {
        TaskState state = tasks.get(r2t.initiatorTaskTag());
        if (state == null) {
            LOG.log(Level.DEBUG, () -> "R2T from " + peer + " for task " + TaskState.hex(r2t.initiatorTaskTag())
                    + ", which is not in flight here: ignored");
        } else {
            state.acceptR2T(r2t, current, peer);
            int expStatSN = binding.owner().expectedStatSN();
            state.lock.lock();
            try {
                if (!state.finished()) {
                    sendDataOut(state, r2t.targetTransferTag(), Integer.toUnsignedLong(r2t.bufferOffset()),
                            Integer.toUnsignedLong(r2t.desiredDataTransferLength()), expStatSN, current);
                }
            } finally {
                state.lock.unlock();
            }
        }
        binding.windowUpdate(r2t.expCmdSN(), r2t.maxCmdSN());
    }

    /** Carries a refused placement out of the decoder, whose callback cannot throw checked exceptions. */
    static final class PlacementRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient ProtocolException problem;

        PlacementRefused(ProtocolException problem) {
            super(problem.getMessage(), problem, false, false);
            this.problem = problem;
        }
    }
}
