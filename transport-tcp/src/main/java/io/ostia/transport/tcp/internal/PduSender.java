package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.Digests;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduEncoder;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes whole PDUs to a non-blocking socket, one at a time: the header is encoded into a
 * reused direct buffer and gather-written with the data segment as it lies in the caller's
 * memory (a slice of the task buffer, never copied) and the padding and data digest.
 *
 * <p>One lock serialises senders. A sender whose socket buffer is full waits on a selector of
 * its own for room, and gives up (an {@link IOException}) when the socket takes no byte within
 * the progress timeout: a PDU half written cannot be taken back, so the caller must fail the
 * connection on any exception from here.
 */
final class PduSender implements AutoCloseable {

    private final SocketChannel channel;
    private final Selector writable;
    private final long progressTimeoutNanos;
    private final String peer;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer header = ByteBuffer.allocateDirect(PduEncoder.MAX_HEADER_LENGTH);
    private final ByteBuffer trailer = ByteBuffer.allocateDirect(3 + Digests.LENGTH);
    private final ByteBuffer[] gather = new ByteBuffer[3];
    private volatile PduEncoder encoder = new PduEncoder(false, false);

    PduSender(SocketChannel channel, long progressTimeoutNanos, String peer) throws IOException {
        this.channel = channel;
        this.progressTimeoutNanos = progressTimeoutNanos;
        this.peer = peer;
        this.writable = Selector.open();
        try {
            channel.register(writable, SelectionKey.OP_WRITE);
        } catch (IOException | RuntimeException e) {
            try {
                writable.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Digests apply from the next PDU sent; see {@link TcpConnection#setParameters}. */
    void setDigests(boolean headerDigest, boolean dataDigest) {
        encoder = new PduEncoder(headerDigest, dataDigest);
    }

    /** Lets a caller keep several PDUs together (a command and its unsolicited Data-Out). */
    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    void send(Pdu pdu) throws IOException {
        lock.lock();
        try {
            PduEncoder current = encoder;
            header.clear();
            current.encodeHeader(pdu, header);
            header.flip();
            int dataLength = pdu.dataSegmentLength();
            int count = 1;
            gather[0] = header;
            if (dataLength > 0) {
                trailer.clear();
                current.encodeTrailer(pdu, trailer);
                trailer.flip();
                gather[count++] = pdu.data().asByteBuffer();
                gather[count++] = trailer;
            }
            try {
                writeFully(count);
            } finally {
                // Do not keep a task buffer reachable from the sender after the write.
                gather[1] = null;
            }
        } finally {
            lock.unlock();
        }
    }

    private void writeFully(int count) throws IOException {
        long remaining = 0;
        for (int i = 0; i < count; i++) {
            remaining += gather[i].remaining();
        }
        long lastProgress = System.nanoTime();
        while (remaining > 0) {
            long written = channel.write(gather, 0, count);
            if (written > 0) {
                remaining -= written;
                lastProgress = System.nanoTime();
                continue;
            }
            long wait = progressTimeoutNanos - (System.nanoTime() - lastProgress);
            if (wait <= 0) {
                throw new IOException("sending to " + peer + " made no progress for "
                        + TimeUnit.NANOSECONDS.toMillis(progressTimeoutNanos)
                        + " ms: the target does not read (the transport's progress timeout)");
            }
            writable.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
            writable.selectedKeys().clear();
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("interrupted while sending a PDU to " + peer
                        + ", with " + remaining + " bytes of it unsent");
            }
        }
    }

    @Override
    public void close() throws IOException {
        writable.close();
    }
}
