package io.ostia.transport.tcp.internal;

import io.ostia.api.TransportException;
import io.ostia.api.pdu.DataIn;
import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.ScsiCommand;
import io.ostia.api.pdu.ScsiResponse;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.spi.TransportTask;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Just enough of a session layer for transport tests: a login without CHAP (security and
 * operational stages, SessionType=Normal) with PDUs built here, then SCSI tasks through
 * {@code sendTask}, CmdSN numbering and response matching by task tag.
 */
final class TestInitiator implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final String INITIATOR_NAME = "iqn.2026-11.io.ostia:transport-tcp-test";
    static final long LUN1 = 1L << 48;
    static final int BLOCK = 512;

    /** What the test offers in the operational stage. */
    record Offer(boolean headerDigest, boolean dataDigest, boolean immediateData, boolean initialR2T,
            int firstBurstLength, int maxBurstLength, int maxRecvDataSegmentLength, int maxOutstandingR2T) {
        static Offer plain() {
            return new Offer(false, false, true, true, 65536, 262144, 262144, 1);
        }
    }

    /** A task as the session layer would hand it over. */
    record Task(ScsiCommand command, MemorySegment buffer) implements TransportTask {
    }

    final RecordingOwner owner = new RecordingOwner();
    final TransportEndpoint endpoint;
    final TransportConnection connection;
    Map<String, String> answered = Map.of();
    private int nextItt = 0x100;
    private int cmdSN;
    private final Map<Integer, Pdu> statuses = new HashMap<>();

    TestInitiator(IscsiTransport transport, InetSocketAddress target) throws Exception {
        endpoint = transport.connect(target);
        if (!endpoint.poll(TIMEOUT)) {
            endpoint.disconnect();
            throw new AssertionError("no connection to " + target + " within " + TIMEOUT);
        }
        connection = transport.createConnection(owner, 32);
        connection.bind(endpoint, true);
    }

    /** Logs in to {@code targetName}, applies the outcome with setParameters and starts. */
    void login(String targetName, Offer offer) throws Exception {
        Map<String, String> security = new LinkedHashMap<>();
        security.put("InitiatorName", INITIATOR_NAME);
        security.put("SessionType", "Normal");
        security.put("TargetName", targetName);
        security.put("AuthMethod", "None");
        LoginResponse response = exchange(LoginStage.SECURITY_NEGOTIATION, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                security, 1, 0);
        Map<String, String> operational = new LinkedHashMap<>();
        operational.put("HeaderDigest", offer.headerDigest() ? "CRC32C" : "None");
        operational.put("DataDigest", offer.dataDigest() ? "CRC32C" : "None");
        operational.put("MaxRecvDataSegmentLength", Integer.toString(offer.maxRecvDataSegmentLength()));
        operational.put("ImmediateData", offer.immediateData() ? "Yes" : "No");
        operational.put("InitialR2T", offer.initialR2T() ? "Yes" : "No");
        operational.put("FirstBurstLength", Integer.toString(offer.firstBurstLength()));
        operational.put("MaxBurstLength", Integer.toString(offer.maxBurstLength()));
        operational.put("MaxOutstandingR2T", Integer.toString(offer.maxOutstandingR2T()));
        operational.put("ErrorRecoveryLevel", "0");
        operational.put("MaxConnections", "1");
        operational.put("DataPDUInOrder", "Yes");
        operational.put("DataSequenceInOrder", "Yes");
        operational.put("DefaultTime2Wait", "0");
        operational.put("DefaultTime2Retain", "0");
        response = exchange(LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE, operational,
                response.expCmdSN(), response.statSN() + 1);
        cmdSN = response.expCmdSN();
        connection.setParameters(TestParameters.negotiated(offer, answered));
        connection.start();
        clearUnitAttention();
    }

    /** A new I_T nexus starts with a UNIT ATTENTION (power on, reset); TEST UNIT READY takes it. */
    private void clearUnitAttention() throws Exception {
        for (int attempt = 0; attempt < 3; attempt++) {
            Pdu status = await(submit(io.ostia.api.scsi.Cdb.testUnitReady(), false, false, Pdu.NO_DATA));
            if (status instanceof ScsiResponse response && response.response() == 0 && response.status() == 0) {
                return;
            }
        }
        throw new AssertionError("LUN 1 is not ready after three TEST UNIT READY commands");
    }

    private LoginResponse exchange(LoginStage current, LoginStage next, Map<String, String> keys, int loginCmdSN,
            int expStatSN) throws Exception {
        byte[] text = encode(keys);
        LoginRequest request = new LoginRequest(true, false, current, next, 0, 0, 0x00023d000001L, 0, 0, 0,
                loginCmdSN, expStatSN, MemorySegment.ofArray(text));
        while (true) {
            connection.sendPdu(request);
            LoginResponse response = owner.next(LoginResponse.class, TIMEOUT);
            if (response.statusClass() != 0) {
                throw new AssertionError("login refused at " + current + ": class " + response.statusClass()
                        + " detail " + response.statusDetail());
            }
            Map<String, String> merged = new HashMap<>(answered);
            merged.putAll(decode(response.data()));
            answered = merged;
            if (response.transit()) {
                return response;
            }
            // The target wants another round in this stage: send the same stage, no new keys.
            request = new LoginRequest(true, false, current, next, 0, 0, 0x00023d000001L, response.tsih(), 0, 0,
                    loginCmdSN, response.statSN() + 1, Pdu.NO_DATA);
        }
    }

    static byte[] encode(Map<String, String> keys) {
        StringBuilder text = new StringBuilder();
        keys.forEach((key, value) -> text.append(key).append('=').append(value).append('\0'));
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, String> decode(MemorySegment data) {
        Map<String, String> keys = new LinkedHashMap<>();
        String text = new String(data.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        for (String pair : text.split("\0")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                keys.put(pair.substring(0, equals), pair.substring(equals + 1));
            }
        }
        return keys;
    }

    /** Starts a task and returns its tag; the response comes through {@link #await}. */
    synchronized int submit(byte[] cdb, boolean read, boolean write, MemorySegment buffer) throws TransportException {
        int itt = nextItt++;
        ScsiCommand command = ScsiCommand.of(LUN1, itt, cdb, read, write, (int) buffer.byteSize())
                .withCmdSN(cmdSN++, owner.expectedStatSN());
        connection.sendTask(new Task(command, buffer));
        return itt;
    }

    /** The tag the next submit will use. */
    synchronized int peekItt() {
        return nextItt;
    }

    /** Waits for the status of task {@code itt}: a SCSI Response or a Data-In with status. */
    Pdu await(int itt) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!statuses.containsKey(itt)) {
            Pdu pdu = owner.received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (pdu == null) {
                throw new AssertionError("no status for task " + Integer.toHexString(itt) + " within " + TIMEOUT
                        + (owner.failures.isEmpty() ? "" : "; the connection failed: " + owner.failures));
            }
            if (pdu instanceof ScsiResponse response) {
                statuses.put(response.initiatorTaskTag(), response);
            } else if (pdu instanceof DataIn dataIn && dataIn.statusPresent()) {
                statuses.put(dataIn.initiatorTaskTag(), dataIn);
            }
        }
        return statuses.remove(itt);
    }

    /** Waits for GOOD status of task {@code itt}. */
    void awaitGood(int itt) throws InterruptedException {
        Pdu status = await(itt);
        int scsiStatus = switch (status) {
            case ScsiResponse response -> {
                if (response.response() != 0) {
                    throw new AssertionError("task " + Integer.toHexString(itt) + ": iSCSI response "
                            + response.response());
                }
                yield response.status();
            }
            case DataIn dataIn -> dataIn.status();
            default -> throw new AssertionError("unexpected " + status);
        };
        if (scsiStatus != 0) {
            throw new AssertionError("task " + Integer.toHexString(itt) + " ended with SCSI status 0x"
                    + Integer.toHexString(scsiStatus) + ": " + status);
        }
    }

    /** Writes {@code data} at {@code lba} in commands of {@code chunk} bytes, {@code depth} at a time. */
    void write(long lba, MemorySegment data, int chunk, int depth) throws Exception {
        transfer(lba, data, chunk, depth, false);
    }

    void read(long lba, MemorySegment into, int chunk, int depth) throws Exception {
        transfer(lba, into, chunk, depth, true);
    }

    private void transfer(long lba, MemorySegment data, int chunk, int depth, boolean read) throws Exception {
        List<Integer> inFlight = new ArrayList<>();
        for (long offset = 0; offset < data.byteSize(); offset += chunk) {
            int length = (int) Math.min(chunk, data.byteSize() - offset);
            long at = lba + offset / BLOCK;
            byte[] cdb = read ? io.ostia.api.scsi.Cdb.read10(at, length / BLOCK)
                    : io.ostia.api.scsi.Cdb.write10(at, length / BLOCK);
            inFlight.add(submit(cdb, read, !read, data.asSlice(offset, length)));
            if (inFlight.size() >= depth) {
                awaitGood(inFlight.removeFirst());
            }
        }
        for (int itt : inFlight) {
            awaitGood(itt);
        }
    }

    /** A pattern that differs in every block and every run. */
    static MemorySegment pattern(Arena arena, int length, long seed) {
        MemorySegment segment = arena.allocate(length, 8);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (long i = 0; i < length; i += 8) {
            segment.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        return segment;
    }

    @Override
    public void close() {
        endpoint.disconnect();
        connection.stop(io.ostia.api.spi.StopMode.TERMINATE);
        connection.destroy();
    }
}
