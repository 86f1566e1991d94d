package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.Pdu;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Keeps what the connection sends, and lets the test act at the moment a PDU is sent. */
final class RecordingTransport implements PduTransport {
    final List<Pdu> sent = new ArrayList<>();
    Consumer<Pdu> onSend = pdu -> { };

    @Override
    public void send(Pdu pdu) {
        sent.add(pdu);
        onSend.accept(pdu);
    }

    @Override
    public void flush() {
    }

    @Override
    public void setDigests(boolean header, boolean data) {
    }

    @Override
    public void setMaxRecvDataSegmentLength(int bytes) {
    }

    @Override
    public String remoteAddress() {
        return "test:0";
    }

    @Override
    public String localAddress() {
        return "127.0.0.1";
    }

    @Override
    public int localPort() {
        return 3260;
    }

    @Override
    public void close() {
    }
}
