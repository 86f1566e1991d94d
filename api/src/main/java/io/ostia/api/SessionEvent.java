package io.ostia.api;

import io.ostia.api.scsi.ScsiStatus;

import java.time.Duration;
import java.util.Objects;

/**
 * Something that happened to a session; {@link SessionListener}s receive them. Every event
 * names its session; transports are named as in a session's transport preference ("tcp",
 * "iser").
 */
public sealed interface SessionEvent {

    /** The session the event is about. */
    Session session();

    /** Why a session moved to another transport. */
    enum MoveReason {
        /** {@link Session#switchTransport} asked for it. */
        REQUESTED,
        /** The transport announced it is leaving (its bundle stops, or it was closed). */
        TRANSPORT_LEAVING,
        /** The transport disappeared from the registry without announcing it. */
        TRANSPORT_VANISHED,
        /** A more preferred transport appeared and the failback policy moved the session to it. */
        FAILBACK,
        /** The target asked for a logout or for parameter negotiation. */
        TARGET_REQUESTED
    }

    /** The session logged in for the first time, over {@code transport}. */
    record LoggedIn(Session session, String transport) implements SessionEvent {
        public LoggedIn {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(transport, "transport");
        }
    }

    /**
     * The session moved gracefully from one transport (or connection) to another: commands were
     * held for {@code pause}, from the quiesce to the resume on the new connection, and none failed.
     */
    record Moved(Session session, String from, String to, Duration pause, MoveReason reason) implements SessionEvent {
        public Moved {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(pause, "pause");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The session's connection failed; commands wait while the session logs in again. */
    record RecoveryStarted(Session session, Throwable cause) implements SessionEvent {
        public RecoveryStarted {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(cause, "cause");
        }
    }

    /** The session is logged in again over {@code transport}, {@code downtime} after its connection failed. */
    record Recovered(Session session, String transport, Duration downtime) implements SessionEvent {
        public Recovered {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(downtime, "downtime");
        }
    }

    /** No new connection came up within the replacement timeout: the session has failed for good. */
    record RecoveryFailed(Session session, Throwable cause) implements SessionEvent {
        public RecoveryFailed {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(cause, "cause");
        }
    }

    /**
     * The target answered a block-device command on {@code lun} with {@code status} (TASK SET
     * FULL or BUSY: short of resources now), and the session reissues it after {@code backoff};
     * {@code attempt} numbers the reissues of that command from 1. One event per reissue; once
     * the next backoff would pass the command timeout, the status is the command's error instead.
     */
    record CommandReissued(Session session, int lun, ScsiStatus status, int attempt, Duration backoff)
            implements SessionEvent {
        public CommandReissued {
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(backoff, "backoff");
            if (attempt < 1) {
                throw new IllegalArgumentException("attempt numbers start at 1, not " + attempt);
            }
        }
    }

    /** The session logged out (closed); no event follows. */
    record LoggedOut(Session session) implements SessionEvent {
        public LoggedOut {
            Objects.requireNonNull(session, "session");
        }
    }
}
