package io.ostia.target.internal.iscsi;

import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduDecoder;
import io.ostia.api.pdu.PduEncoder;
import io.ostia.api.pdu.PduFormatException;
import io.ostia.api.pdu.Side;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * iSCSI over one TCP connection: a platform thread reads and decodes, hands PDUs to the session
 * layer's {@link PduHandler}, and responses produced while it works through one read are written
 * together (one system call for many small responses).
 */
final class TcpPortalConnection implements PduTransport {

    private static final System.Logger LOG = System.getLogger(TcpPortalConnection.class.getName());
    /** Receive and send buffers before login (on the heap): a login PDU is at most 48 + 8192 bytes and digests. */
    private static final int LOGIN_BUFFER = 16 << 10;
    private static final RateLimitedLog MALFORMED = new RateLimitedLog(LOG, java.time.Duration.ofSeconds(10));
    /** RFC 7143 §12.12: MaxRecvDataSegmentLength is 8192 until login negotiates it. */
    static final int LOGIN_DATA_SEGMENT_LENGTH = 8192;

    private final SocketChannel channel;
    private final String remote;
    private final String localAddress;
    private final int localPort;
    private final PduDecoder decoder = new PduDecoder(Side.TARGET, LOGIN_DATA_SEGMENT_LENGTH);
    private final ConnectionBuffers pool;
    /** The large off-heap pair taken after login, given back when the reader thread ends; null until then. */
    private ConnectionBuffers.Pair pair;
    private volatile boolean wantsPair;
    /**
     * Data segments at least this long are written from where they lie rather than copied into
     * the send buffer: the copy cost a pass over the data, and held the Data-In back until the
     * whole batch of commands read at once was served.
     */
    private static final int DIRECT_SEND = 16 * 1024;
    private ByteBuffer in = ByteBuffer.allocate(LOGIN_BUFFER);
    private final ReentrantLock writeLock = new ReentrantLock();
    private ByteBuffer out = ByteBuffer.allocate(LOGIN_BUFFER);
    private final ByteBuffer bigHeader = ByteBuffer.allocate(PduEncoder.MAX_HEADER_LENGTH);
    private final ByteBuffer bigTrailer = ByteBuffer.allocate(8);
    /** Queued PDUs, header, data segment and trailer of {@link #writeDirect}; under the write lock. */
    private final ByteBuffer[] gather = new ByteBuffer[4];
    private volatile PduEncoder encoder = new PduEncoder(false, false);
    private final Thread reader;
    private final PduHandler handler;
    private volatile boolean batching;
    private volatile boolean closed;
    private final Runnable onExit;

    /**
     * @param handlerFactory makes the session-layer handler for this connection
     * @param pool           where the large buffers come from once login completed
     * @param onExit         runs on the reader thread as its last action, after everything the
     *                       connection held is freed (the portal forgets it, its place is released)
     */
    TcpPortalConnection(SocketChannel channel, String threadName, Function<PduTransport, PduHandler> handlerFactory,
                  ConnectionBuffers pool, Runnable onExit) throws IOException {
        this.channel = channel;
        this.pool = pool;
        this.onExit = onExit;
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        InetSocketAddress r = (InetSocketAddress) channel.getRemoteAddress();
        InetSocketAddress l = (InetSocketAddress) channel.getLocalAddress();
        this.remote = r.getAddress().getHostAddress() + ":" + r.getPort();
        this.localAddress = l.getAddress().getHostAddress();
        this.localPort = l.getPort();
        this.handler = handlerFactory.apply(this);
        decoder.setDataPlacement(handler);
        this.reader = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::readLoop);
    }

    void start() {
        reader.start();
    }

    Thread thread() {
        return reader;
    }

    private void readLoop() {
        Throwable cause = null;
        try {
            while (!closed) {
                if (wantsPair) {
                    takePair();
                }
                int n = channel.read(in);
                if (n < 0) {
                    break;
                }
                in.flip();
                batching = true;
                try {
                    Pdu pdu;
                    while ((pdu = decoder.decode(in)) != null) {
                        handler.received(pdu);
                        if (closed) {
                            break;
                        }
                    }
                } finally {
                    batching = false;
                    in.compact();
                }
                flush();
            }
        } catch (PduFormatException e) {
            MALFORMED.log(Level.WARNING, "iSCSI connection from " + remote + ": malformed PDU, closing: " + e.getMessage());
            handler.malformed(e);
            cause = e;
        } catch (ClosedChannelException e) {
            // Closed locally: the normal way out.
        } catch (IOException e) {
            if (!closed) {
                LOG.log(Level.DEBUG, "iSCSI connection from " + remote + " failed", e);
                cause = e;
            }
        } catch (RuntimeException e) {
            // A bug, not the peer's doing: say so loudly, and end only this connection.
            LOG.log(Level.ERROR, "iSCSI connection from " + remote + " closed after an internal error", e);
            cause = e;
        } finally {
            close();
            try {
                handler.closed(cause);
            } finally {
                // Senders check 'closed' under the lock before touching the buffers.
                writeLock.lock();
                try {
                    if (pair != null) {
                        pool.give(pair);
                        pair = null;
                    }
                } finally {
                    writeLock.unlock();
                    onExit.run();
                }
            }
        }
    }

    /**
     * Moves to a large pair from the pool, if it has one, carrying over the bytes received and
     * not yet decoded; on the reader thread, between reads.
     */
    private void takePair() throws IOException {
        wantsPair = false;
        ConnectionBuffers.Pair taken = pool.take();
        if (taken == null) {
            LOG.log(Level.DEBUG, "iSCSI connection from " + remote + ": connection buffers exhausted; staying on "
                    + LOGIN_BUFFER + "-byte buffers");
            return;
        }
        writeLock.lock();
        try {
            if (closed) {
                pool.give(taken);
                return;
            }
            drain();
            in.flip();
            taken.receive().put(in);
            in = taken.receive();
            out = taken.send();
            pair = taken;
        } finally {
            writeLock.unlock();
        }
    }

    /** Login completed: take the large buffers before the next read. */
    @Override
    public void loggedIn() {
        wantsPair = true;
    }

    @Override
    public void send(Pdu pdu) throws IOException {
        writeLock.lock();
        try {
            if (closed) {
                throw new ClosedChannelException();
            }
            PduEncoder enc = encoder;
            int length = enc.encodedLength(pdu);
            if (pdu.dataSegmentLength() < DIRECT_SEND && length <= out.remaining()) {
                enc.encode(pdu, out);
            } else {
                writeDirect(enc, pdu);
            }
            if (!batching || Thread.currentThread() != reader) {
                drain();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Writes what is queued in {@link #out}, then the PDU with its data segment as it lies (a
     * view of the LUN, never copied here), in one gathering write: a large Data-In leaves at once
     * instead of being copied into the send buffer and held until the batch ends. Caller holds
     * the lock.
     */
    private void writeDirect(PduEncoder enc, Pdu pdu) throws IOException {
        bigHeader.clear();
        enc.encodeHeader(pdu, bigHeader);
        bigHeader.flip();
        bigTrailer.clear();
        enc.encodeTrailer(pdu, bigTrailer);
        bigTrailer.flip();
        out.flip();
        gather[0] = out;
        gather[1] = bigHeader;
        gather[2] = pdu.data().asByteBuffer();
        gather[3] = bigTrailer;
        try {
            long total = out.remaining() + bigHeader.remaining() + (long) gather[2].remaining()
                    + bigTrailer.remaining();
            long written = 0;
            while (written < total) {
                long n = channel.write(gather);
                if (n < 0) {
                    throw new EOFException("connection to " + remote + " closed while writing");
                }
                written += n;
            }
        } finally {
            out.clear();
            gather[2] = null; // keep no LUN view reachable from here
        }
    }

    @Override
    public void flush() throws IOException {
        writeLock.lock();
        try {
            if (closed) {
                throw new ClosedChannelException();
            }
            drain();
        } finally {
            writeLock.unlock();
        }
    }

    private void drain() throws IOException {
        out.flip();
        try {
            while (out.hasRemaining()) {
                if (channel.write(out) < 0) {
                    throw new EOFException("connection to " + remote + " closed while writing");
                }
            }
        } finally {
            out.clear();
        }
    }

    @Override
    public void setDigests(boolean header, boolean data) {
        decoder.setHeaderDigest(header);
        decoder.setDataDigest(data);
        encoder = new PduEncoder(header, data);
    }

    @Override
    public void setMaxRecvDataSegmentLength(int bytes) {
        decoder.setMaxRecvDataSegmentLength(bytes);
    }

    @Override
    public String remoteAddress() {
        return remote;
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    @Override
    public int localPort() {
        return localPort;
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing the connection from " + remote + " failed", e);
        }
    }
}
