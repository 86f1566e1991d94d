package io.ostia.target;

import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.NopIn;
import io.ostia.api.pdu.NopOut;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.pdu.Side;
import io.ostia.api.text.KeyValue;
import io.ostia.api.text.TextCodec;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A deliberately simple initiator for protocol tests: blocking socket, the api codec, every
 * wait bounded by the socket timeout. It can also send what a real initiator never would.
 */
final class TestInitiator implements AutoCloseable {

    static final String NAME = "iqn.2026-01.io.ostia:test-initiator";

    final Socket socket;
    private final InputStream in;
    private final PduDecoder decoder = new PduDecoder(Side.INITIATOR, (1 << 24) - 1);
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20).flip();
    private PduEncoder encoder = new PduEncoder(false, false);
    final long isid;
    int cmdSN = 1;
    int expStatSN;
    int itt = 0x100;
    int tsih;
    int maxCmdSN;
    Map<String, String> negotiated = new LinkedHashMap<>();

    TestInitiator(int port, long isid) throws IOException {
        this.socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.isid = isid;
    }

    void send(Pdu pdu) throws IOException {
        socket.getOutputStream().write(encoder.encode(pdu).array());
    }

    void sendRaw(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
    }

    /** Whether {@link #receive()} answers the target's NOP-In pings itself instead of returning them. */
    boolean answerPings = true;
    int pingsAnswered;

    /**
     * The next PDU; fails when the target closed the connection, or with a timeout when nothing
     * but pings arrived within the socket timeout (answered pings do not extend the wait).
     */
    Pdu receive() throws IOException {
        long deadline = System.nanoTime() + socket.getSoTimeout() * 1_000_000L;
        while (true) {
            if (System.nanoTime() - deadline > 0) {
                throw new java.net.SocketTimeoutException("only NOP-In pings arrived within "
                        + socket.getSoTimeout() + " ms");
            }
            Pdu pdu = decoder.decode(buffer);
            if (pdu instanceof NopIn ping && answerPings && ping.initiatorTaskTag() == Pdu.RESERVED_TAG) {
                send(new NopOut(true, 0, Pdu.RESERVED_TAG, ping.targetTransferTag(), cmdSN, expStatSN, Pdu.NO_DATA));
                pingsAnswered++;
                continue;
            }
            if (pdu != null) {
                return pdu;
            }
            buffer.compact();
            int n;
            try {
                n = in.read(buffer.array(), buffer.position(), buffer.remaining());
            } catch (IOException e) {
                buffer.flip(); // a timed-out read leaves the undecoded bytes for the next receive()
                throw e;
            }
            if (n < 0) {
                buffer.flip();
                throw new EOFException("target closed the connection");
            }
            buffer.position(buffer.position() + n).flip();
        }
    }

    /** Whether the target closes the connection within the socket timeout (nothing else arriving). */
    boolean closedByTarget() throws IOException {
        try {
            while (true) {
                receive();
            }
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }

    static MemorySegment text(Map<String, String> keys) {
        List<KeyValue> pairs = new ArrayList<>();
        keys.forEach((k, v) -> pairs.add(new KeyValue(k, v)));
        return TextCodec.formatSegment(pairs);
    }

    static Map<String, String> keys(Pdu pdu) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (KeyValue kv : TextCodec.parse(pdu.data())) {
            m.put(kv.key(), kv.value());
        }
        return m;
    }

    LoginResponse loginStep(LoginStage current, LoginStage next, boolean transit, Map<String, String> keys)
            throws IOException {
        send(new LoginRequest(transit, false, current, next, 0, 0, isid, tsih, itt, 0, cmdSN, expStatSN, text(keys)));
        LoginResponse r = (LoginResponse) receive();
        expStatSN = r.statSN() + 1;
        maxCmdSN = r.maxCmdSN();
        return r;
    }

    /** Logs in to a normal session without CHAP, going straight from operational stage to full feature. */
    LoginResponse login(String target, Map<String, String> operational) throws IOException {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("InitiatorName", NAME);
        keys.put("SessionType", "Normal");
        keys.put("TargetName", target);
        keys.put("AuthMethod", "None");
        LoginResponse r = loginStep(LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, true, keys);
        if (r.statusClass() != 0) {
            return r;
        }
        return operational(operational);
    }

    LoginResponse operational(Map<String, String> operational) throws IOException {
        LoginResponse r = loginStep(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE, true,
                operational);
        if (r.statusClass() == 0) {
            tsih = r.tsih();
            negotiated.putAll(keys(r));
            encoder = new PduEncoder("CRC32C".equals(negotiated.get("HeaderDigest")),
                    "CRC32C".equals(negotiated.get("DataDigest")));
            decoder.setHeaderDigest(encoder.headerDigest());
            decoder.setDataDigest(encoder.dataDigest());
        }
        return r;
    }

    ScsiCommand command(byte[] cdb, boolean read, boolean write, int expectedLength) {
        return new ScsiCommand(false, true, read, write, ScsiCommand.TaskAttribute.SIMPLE, 0, itt++,
                expectedLength, cmdSN++, expStatSN, cdb, OptionalInt.empty(), Pdu.NO_DATA);
    }

    /** Result of a command run to completion: status, sense bytes (if any), Data-In. */
    record Result(int status, byte[] data, ScsiResponse response, DataIn lastDataIn) {
    }

    /** Sends {@code cmd} and collects Data-In until status arrives (phase-collapsed or a SCSI Response). */
    Result complete(ScsiCommand cmd) throws IOException {
        send(cmd);
        return collect(cmd.initiatorTaskTag());
    }

    Result collect(int tag) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (true) {
            Pdu pdu = receive();
            if (pdu.initiatorTaskTag() != tag) {
                throw new IOException("unexpected " + pdu);
            }
            if (pdu instanceof DataIn d) {
                data.write(d.data().toArray(ValueLayout.JAVA_BYTE));
                if (d.statusPresent()) {
                    expStatSN = d.statSN() + 1;
                    return new Result(d.status(), data.toByteArray(), null, d);
                }
            } else if (pdu instanceof ScsiResponse r) {
                expStatSN = r.statSN() + 1;
                byte[] sense = r.data().toArray(ValueLayout.JAVA_BYTE);
                return new Result(r.status(), sense.length > 2 ? java.util.Arrays.copyOfRange(sense, 2, sense.length)
                        : data.toByteArray(), r, null);
            } else {
                throw new IOException("unexpected " + pdu);
            }
        }
    }

    static byte[] chapResponse(String algorithm, int id, String secret, byte[] challenge) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            md.update((byte) id);
            md.update(secret.getBytes(StandardCharsets.UTF_8));
            md.update(challenge);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
