package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.LogoutRequest;
import io.ostia.api.pdu.LogoutResponse;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.TextCodec;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.store.RamStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * What a logged-out session held must be gone when its Logout Response leaves: an initiator may
 * log in again and go on at once (libiscsi's SCSI.Reserve6.Logout does). Connections here run
 * over a transport that hands sent PDUs to the test, so "when it leaves" is exact, not a race.
 */
class LogoutTest {

    private static final String IQN = "iqn.2026-01.io.ostia:logout";
    private static final byte[] RESERVE_6 = {0x16, 0, 0, 0, 0, 0};

    private final TargetServer server = new TargetServer(
            List.of(new TargetNode(IQN, "", Map.of(0, new LogicalUnit(0, new RamStore(1 << 20, 512, false),
                    "SN0001", 0x1234)), Optional.empty())),
            List.of(new TargetServer.PortalSpec("127.0.0.1", 0)),
            TargetServer.Settings.defaults().withLogoutGrace(Duration.ZERO));

    @AfterEach
    void close() {
        server.close();
    }

    @Test
    void aReservationIsReleasedBeforeTheLogoutResponseLeaves() throws IOException {
        Initiator holder = new Initiator(0x1001);
        Initiator other = new Initiator(0x1002);
        assertEquals(ScsiStatus.GOOD.code(), holder.run(RESERVE_6));
        assertEquals(ScsiStatus.RESERVATION_CONFLICT.code(), other.run(RESERVE_6));

        int[] seenByOther = {-1};
        holder.transport.onSend = pdu -> {
            if (pdu instanceof LogoutResponse) {
                seenByOther[0] = other.run(RESERVE_6);
            }
        };
        holder.connection.received(new LogoutRequest(true, LogoutRequest.Reason.CLOSE_SESSION, 0x77, 0, 1, 0));
        LogoutResponse logout = assertInstanceOf(LogoutResponse.class, holder.transport.sent.getLast());
        assertEquals(LogoutResponse.Response.CLOSED_SUCCESSFULLY, logout.response());
        assertEquals(ScsiStatus.GOOD.code(), seenByOther[0], "the reservation outlived the logout");
    }

    /** A logged-in connection of its own session, driven by calling it as the receive thread would. */
    private final class Initiator {
        final RecordingTransport transport = new RecordingTransport();
        final IscsiConnection connection = new IscsiConnection(server, transport, 1);
        private int nextTag = 1;

        Initiator(long isid) throws IOException {
            List<KeyValue> keys = List.of(new KeyValue("InitiatorName", "iqn.2026-01.io.ostia:i" + isid),
                    new KeyValue("SessionType", "Normal"), new KeyValue("TargetName", IQN),
                    new KeyValue("AuthMethod", "None"));
            connection.received(new LoginRequest(true, false, LoginStage.SECURITY_NEGOTIATION,
                    LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, 0, 0, isid, 0, 0, 0, 1, 0, TextCodec.formatSegment(keys)));
            connection.received(new LoginRequest(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                    LoginStage.FULL_FEATURE_PHASE, 0, 0, isid, 0, 0, 0, 1, 0, Pdu.NO_DATA));
            LoginResponse login = assertInstanceOf(LoginResponse.class, transport.sent.getLast());
            assertEquals(0, login.statusClass(), "login status " + login.statusClass() + "/" + login.statusDetail());
        }

        /** Runs a command without data (immediate delivery, so no CmdSN to keep) and returns its status. */
        int run(byte[] cdb) {
            int tag = nextTag++;
            try {
                connection.received(new ScsiCommand(true, true, false, false, ScsiCommand.TaskAttribute.SIMPLE, 0, tag,
                        0, 1, 0, cdb, OptionalInt.empty(), Pdu.NO_DATA));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (Pdu pdu : transport.sent.reversed()) {
                if (pdu instanceof ScsiResponse r && r.initiatorTaskTag() == tag) {
                    return r.status();
                }
            }
            throw new AssertionError("no response to task " + tag + " in " + transport.sent);
        }
    }
}
