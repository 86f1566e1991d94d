package io.ostia.initiator.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/**
 * The session layer's JFR events, visible in {@code jfr print --events io.ostia.*}. An event
 * costs an allocation and a flag test when no recording asks for it.
 */
final class FlightEvents {

    private FlightEvents() {
    }

    /** What every Ostia event shares: its category and the target it concerns. */
    @Category({"Ostia", "iSCSI"})
    abstract static class TargetEvent extends Event {
        @Label("Target") String target;
    }

    /** An event that spans a session's change: its target, ISID and outcome. */
    abstract static class SessionChange extends TargetEvent {
        @Label("ISID") String isid;
        @Label("Outcome") String outcome;

        /**
         * Ends the event; if a recording wants it, fills the shared fields and returns true: the
         * caller sets its own and commits.
         */
        final boolean end(String target, long isid, String outcome) {
            end();
            if (!shouldCommit()) {
                return false;
            }
            this.target = target;
            this.isid = FlightEvents.isid(isid);
            this.outcome = outcome;
            return true;
        }
    }

    /** A graceful move between connections; its duration is the I/O pause. */
    @Name("io.ostia.SessionMove")
    @Label("iSCSI Session Move")
    @Description("A session moved to a new connection (switchTransport, a leaving or vanished transport, failback):"
            + " the duration is the pause during which commands were held")
    static final class Move extends SessionChange {
        @Label("From") String from;
        @Label("To") String to;
        @Label("Reason") String reason;
    }

    /** A failed connection replaced (or not); its duration is the downtime. */
    @Name("io.ostia.SessionRecovery")
    @Label("iSCSI Session Recovery")
    @Description("A session lost its connection and logged in again (or failed): the duration is the downtime")
    static final class Recovery extends SessionChange {
        @Label("Cause") String cause;
        @Label("Time2Wait") @Description("How long the recovery waited before its first login (RFC 7143 DefaultTime2Wait,"
                + " or the Time2Wait the target named)")
        @Timespan(Timespan.MILLISECONDS) long time2Wait;
        @Label("Transport") String transport;
    }

    /** One login exchange over one transport, successful or not. */
    @Name("io.ostia.Login")
    @Label("iSCSI Login")
    @Description("A login (connect and login phase) over one transport")
    static final class Login extends SessionChange {
        @Label("Transport") String transport;
        @Label("Discovery") boolean discovery;
    }

    /** A SCSI command that got no answer within the command timeout and is being aborted. */
    @Name("io.ostia.CommandTimeout")
    @Label("iSCSI Command Timeout")
    @Description("A SCSI command passed its deadline; the session aborts it")
    static final class CommandTimeout extends TargetEvent {
        @Label("Command") String command;
        @Label("Timeout") @Timespan(Timespan.MILLISECONDS) long timeout;
    }

    /** A command answered TASK SET FULL or BUSY, to be reissued after a backoff. */
    @Name("io.ostia.CommandReissue")
    @Label("iSCSI Command Reissue")
    @Description("The target answered a command TASK SET FULL or BUSY; the session reissues it after the backoff")
    static final class CommandReissue extends TargetEvent {
        @Label("Command") String command;
        @Label("Status") String status;
        @Label("Attempt") int attempt;
        @Label("Backoff") @Timespan(Timespan.MILLISECONDS) long backoff;
    }

    static String isid(long isid) {
        return String.format("%012x", isid);
    }
}
