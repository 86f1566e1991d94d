package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.LoginRequest;
import io.ostia.api.pdu.LoginResponse;
import io.ostia.api.pdu.LoginStage;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.Side;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A scripted target on loopback for what tgtd cannot be made to do: answer garbage, send a
 * Data-In outside the buffer, close at a chosen moment. It uses the project's codec, so what
 * it sends is well-formed unless a test says otherwise.
 */
final class FakeTarget implements AutoCloseable {

    private final ServerSocketChannel server;
    private final PduEncoder encoder = new PduEncoder(false, false);
    private final PduDecoder decoder = new PduDecoder(Side.TARGET, (1 << 24) - 1);
    private SocketChannel client;
    private final java.util.List<SocketChannel> accepted = new java.util.ArrayList<>();

    FakeTarget() throws IOException {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) server.getLocalAddress();
    }

    SocketChannel accept() throws IOException {
        client = server.accept();
        accepted.add(client);
        return client;
    }

    /** Reads one whole PDU the initiator sent. */
    Pdu read() throws IOException {
        while (true) {
            ByteBuffer target = decoder.readTarget();
            if (client.read(target) < 0) {
                throw new EOFException("the initiator closed the connection");
            }
            if (!target.hasRemaining()) {
                Pdu pdu = decoder.advance();
                if (pdu != null) {
                    return pdu;
                }
            }
        }
    }

    /** From the next PDU on, the initiator's PDUs carry header and data digests. */
    void expectDigests() {
        decoder.setHeaderDigest(true);
        decoder.setDataDigest(true);
    }

    void send(Pdu pdu) throws IOException {
        writeRaw(encoder.encode(pdu));
    }

    void writeRaw(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            client.write(bytes);
        }
    }

    /** Answers the first Login Request with a final, successful Login Response. */
    LoginRequest acceptLogin() throws IOException {
        LoginRequest request = (LoginRequest) read();
        send(new LoginResponse(true, false, LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, LoginStage.FULL_FEATURE_PHASE,
                0, 0, request.isid(), 1, request.initiatorTaskTag(), 0, request.cmdSN(), request.cmdSN() + 16, 0, 0,
                Pdu.NO_DATA));
        return request;
    }

    /** Closes the current connection, as a target that goes away. */
    void closeClient() throws IOException {
        if (client != null) {
            client.close();
        }
    }

    /** Resets the current connection (SO_LINGER 0: an RST instead of a FIN), as a crashed stack would. */
    void resetClient() throws IOException {
        client.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        client.close();
    }

    @Override
    public void close() throws IOException {
        try {
            for (SocketChannel channel : accepted) {
                channel.close();
            }
        } finally {
            server.close();
        }
    }
}
