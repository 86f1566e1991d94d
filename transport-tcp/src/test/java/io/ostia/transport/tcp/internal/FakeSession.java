package io.ostia.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.api.spi.StopMode;
import io.ostia.api.spi.TransportConnection;
import io.ostia.api.spi.TransportEndpoint;
import io.ostia.api.text.NegotiatedParameters;
import java.time.Duration;

/** A connection to a {@link FakeTarget}, taken as far through the SPI's login order as a test needs. */
final class FakeSession {

    static final Duration WAIT = Duration.ofSeconds(5);

    final TransportEndpoint endpoint;
    final TransportConnection connection;
    final RecordingOwner owner = new RecordingOwner();

    private FakeSession(IscsiTransport transport, TransportEndpoint endpoint) throws Exception {
        this.endpoint = endpoint;
        this.connection = transport.createConnection(owner, 32);
    }

    /** An endpoint that is up, with the target's side accepted. */
    static TransportEndpoint connect(IscsiTransport transport, FakeTarget target) throws Exception {
        TransportEndpoint endpoint = transport.connect(target.address());
        target.accept();
        assertTrue(endpoint.poll(WAIT), "connected");
        return endpoint;
    }

    /** Connected and bound, nothing sent yet. */
    static FakeSession bound(IscsiTransport transport, FakeTarget target) throws Exception {
        FakeSession session = new FakeSession(transport, connect(transport, target));
        session.connection.bind(session.endpoint, true);
        return session;
    }

    /** Logged in with RFC 7143 default parameters and started. */
    static FakeSession started(IscsiTransport transport, FakeTarget target) throws Exception {
        FakeSession session = bound(transport, target);
        session.login(target);
        session.start(NegotiatedParameters.DEFAULTS);
        return session;
    }

    /** One Login Request answered by a final Login Response. */
    void login(FakeTarget target) throws Exception {
        connection.sendPdu(new LoginRequest(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
                LoginStage.FULL_FEATURE_PHASE, 0, 0, 1, 0, 0, 0, 1, 0, Pdu.NO_DATA));
        target.acceptLogin();
        owner.next(LoginResponse.class, WAIT);
    }

    void start(NegotiatedParameters parameters) throws Exception {
        connection.setParameters(parameters);
        connection.start();
    }

    /** The logout order: disconnect, stop, destroy. */
    void end(StopMode mode) {
        endpoint.disconnect();
        connection.stop(mode);
        connection.destroy();
    }
}
