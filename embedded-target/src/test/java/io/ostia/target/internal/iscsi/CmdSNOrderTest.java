package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.Opcode;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiCommandHolder;
import io.ostia.api.pdu.Side;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.scsi.ScsiStatus;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.TextCodec;
import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.store.RamStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Commands that arrive ahead of a CmdSN gap run, in CmdSN order, once the gap fills. */
class CmdSNOrderTest {

    private static final String IQN = "iqn.2026-01.io.ostia:cmdsn";
    private static final byte[] TEST_UNIT_READY = new byte[6];

    private final RamStore store = new RamStore(1 << 20, 512, false);
    private final TargetServer server = new TargetServer(
            List.of(new TargetNode(IQN, "", Map.of(0, new LogicalUnit(0, store,
                    "SN0001", 0x1234)), Optional.empty())),
            List.of(new TargetServer.PortalSpec("127.0.0.1", 0)),
            TargetServer.Settings.defaults().withLogoutGrace(Duration.ZERO));
    private final RecordingTransport transport = new RecordingTransport();
    private final IscsiConnection connection = new IscsiConnection(server, transport, 1);

    @AfterEach
    void close() {
        server.close();
    }

    /**
     * CmdSN 3 waits at ExpCmdSN 1, CmdSN 4 at ExpCmdSN 2: both are two ahead when they arrive,
     * and both must still be there when CmdSN 2 fills the gap.
     */
    @Test
    void commandsHeldAtDifferentExpCmdSNsAllRun() throws IOException {
        login(1);
        command(3);
        command(1);
        command(4);
        assertEquals(List.of(1), answered());
        command(2);
        assertEquals(List.of(1, 2, 3, 4), answered());
    }

    /**
     * The same out-of-order arrival, each READ(10) decoded by a real decoder into one reused
     * {@link ScsiCommandHolder} (as the iSER portal does): CmdSN 3 and 4 are held while the holder
     * takes the next commands, so each must be kept as a copy. Every read must return its own
     * block; a held command that aliased the holder would read another command's LBA.
     */
    @Test
    void commandsHeldFromTheReusedHolderKeepTheirOwnCdb() throws IOException, PduFormatException {
        for (int lba = 1; lba <= 4; lba++) {
            store.write(lba * 512L, MemorySegment.ofArray(block(lba)));
        }
        Map<Integer, byte[]> read = new LinkedHashMap<>(); // in answer order
        // The mover's Data-In buffer is reused: take each block's bytes as it is sent.
        transport.onSend = pdu -> {
            if (pdu instanceof DataIn d) {
                read.put(d.initiatorTaskTag(), d.data().toArray(ValueLayout.JAVA_BYTE));
            }
        };
        login(1);
        ScsiCommandHolder holder = new ScsiCommandHolder();
        PduDecoder decoder = new PduDecoder(Side.TARGET, 8192);
        decoder.setScsiCommandHolder(holder);
        PduEncoder encoder = new PduEncoder(false, false);
        for (int cmdSN : new int[] {3, 1, 4, 2}) {
            byte[] cdb = new byte[10];
            cdb[0] = 0x28; // READ(10) of one block at LBA cmdSN
            cdb[5] = (byte) cmdSN;
            cdb[8] = 1;
            assertNull(decoder.decode(encoder.encode(new ScsiCommand(false, true, true, false,
                    ScsiCommand.TaskAttribute.SIMPLE, 0, cmdSN, 512, cmdSN, 0, cdb, OptionalInt.empty(), Pdu.NO_DATA))));
            assertEquals(Opcode.SCSI_COMMAND, decoder.heldOpcode(), "decoded into the holder");
            connection.receivedCommand(holder);
        }
        assertEquals(List.of(1, 2, 3, 4), List.copyOf(read.keySet()), "answered in CmdSN order");
        for (int lba = 1; lba <= 4; lba++) {
            assertArrayEquals(block(lba), read.get(lba), "the block read by the command tagged " + lba);
        }
    }

    private static byte[] block(int lba) {
        byte[] bytes = new byte[512];
        java.util.Arrays.fill(bytes, (byte) (0x40 + lba));
        return bytes;
    }

    private void login(int cmdSN) throws IOException {
        long isid = 0x1001;
        List<KeyValue> keys = List.of(new KeyValue("InitiatorName", "iqn.2026-01.io.ostia:i"),
                new KeyValue("SessionType", "Normal"), new KeyValue("TargetName", IQN),
                new KeyValue("AuthMethod", "None"));
        connection.received(new LoginRequest(true, false, LoginStage.SECURITY_NEGOTIATION,
                LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, 0, 0, isid, 0, 0, 0, cmdSN, 0,
                TextCodec.formatSegment(keys)));
        connection.received(new LoginRequest(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                LoginStage.FULL_FEATURE_PHASE, 0, 0, isid, 0, 0, 0, cmdSN, 0, Pdu.NO_DATA));
        LoginResponse login = assertInstanceOf(LoginResponse.class, transport.sent.getLast());
        assertEquals(0, login.statusClass(), "login status " + login.statusClass() + "/" + login.statusDetail());
    }

    /** A non-immediate TEST UNIT READY numbered (and tagged) {@code cmdSN}. */
    private void command(int cmdSN) throws IOException {
        connection.received(new ScsiCommand(false, true, false, false, ScsiCommand.TaskAttribute.SIMPLE, 0, cmdSN,
                0, cmdSN, 0, TEST_UNIT_READY, OptionalInt.empty(), Pdu.NO_DATA));
    }

    /** The tags of the commands answered so far, in answer order; each answered GOOD. */
    private List<Integer> answered() {
        return transport.sent.stream().filter(p -> p instanceof ScsiResponse).map(p -> (ScsiResponse) p)
                .peek(r -> assertEquals(ScsiStatus.GOOD.code(), r.status(), "status of task " + r.initiatorTaskTag()))
                .map(ScsiResponse::initiatorTaskTag).toList();
    }
}
