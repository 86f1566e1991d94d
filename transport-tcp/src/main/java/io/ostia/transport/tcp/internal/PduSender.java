package io.ostia.transport.tcp.internal;

import io.ostia.api.pdu.Digests;
import io.ostia.api.pdu.Pdu;
import io.ostia.api.pdu.PduEncoder;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes whole PDUs to a non-blocking socket, one at a time: the header is encoded into a
 * reused direct buffer and gather-written with the data segment as it lies in the caller's
 * memory (a slice of the task buffer, never copied) and the padding and data digest.
 *
 * <p>PDUs without a data segment that the {@linkplain #batchFrom batching thread} sends (the
 * receive thread, reissuing commands as responses complete them) wait in a batch until that
 * thread {@linkplain #flush flushes}, or until any other PDU goes out, whichever comes first:
 * the commands issued for several responses then leave in one system call and reach the target
 * as one segment instead of one each. The receive thread flushes before it waits for the socket
 * and whenever a quarter of the commands in flight wait here ({@link #flushIfBatched}), so
 * nothing waits longer than that thread takes to read what the socket already holds, and the
 * target always has most of the queue depth in hand. PDUs with data are never held back, so a
 * task buffer is not read after its send returns.
 *
 * <p>One lock serialises senders. A sender whose socket buffer is full waits on a selector of
 * its own for room, and gives up (an {@link IOException}) when the socket takes no byte within
 * the progress timeout: a PDU half written cannot be taken back, so the caller must fail the
 * connection on any exception from here.
 */
final class PduSender implements AutoCloseable {

    /** Room for about a hundred command headers: more than any read's worth of responses completes. */
    private static final int BATCH_BYTES = 8 * 1024;

    private final SocketChannel channel;
    private final Selector writable;
    private final long progressTimeoutNanos;
    private final String peer;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer header = ByteBuffer.allocateDirect(PduEncoder.MAX_HEADER_LENGTH);
    private final ByteBuffer trailer = ByteBuffer.allocateDirect(3 + Digests.LENGTH);
    private final ByteBuffer[] gather = new ByteBuffer[4];
    /** Encoded header-only PDUs of the batching thread not yet written; in write mode. */
    private final ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BYTES);
    /** PDUs in {@link #batch}; guarded by {@link #lock}. */
    private int batched;
    private volatile Thread batchingThread;
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

    /** Digests apply from the next PDU sent; see {@link Binding#setParameters}. */
    void setDigests(boolean headerDigest, boolean dataDigest) {
        encoder = new PduEncoder(headerDigest, dataDigest);
    }

    /** Header-only PDUs that {@code thread} sends are batched until it calls {@link #flush}. */
    void batchFrom(Thread thread) {
        batchingThread = thread;
    }

    void send(Pdu pdu) throws IOException {
        lock.lock();
        try {
            PduEncoder current = encoder;
            int dataLength = pdu.dataSegmentLength();
            if (dataLength == 0 && Thread.currentThread() == batchingThread) {
                if (batch.remaining() < current.headerLength(pdu)) {
                    flushLocked();
                }
                current.encodeHeader(pdu, batch);
                batched++;
                return;
            }
            header.clear();
            current.encodeHeader(pdu, header);
            trailer.clear();
            if (dataLength > 0) {
                current.encodeTrailer(pdu, trailer);
            }
            writeWithBatch(dataLength > 0 ? pdu.data().asByteBuffer() : null);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends a Data-Out whose data segment is {@code data}'s remaining bytes (a view of the task
     * buffer that the caller repositions for each PDU of a sequence): the header is encoded
     * straight into the send buffer, so a write's Data-Out PDUs allocate nothing.
     */
    void sendDataOut(boolean finalFlag, long lun, int initiatorTaskTag, int targetTransferTag, int expStatSN,
            int dataSN, int bufferOffset, ByteBuffer data) throws IOException {
        lock.lock();
        try {
            PduEncoder current = encoder;
            int length = data.remaining();
            header.clear();
            current.encodeDataOutHeader(finalFlag, lun, initiatorTaskTag, targetTransferTag, expStatSN, dataSN,
                    bufferOffset, length, header);
            trailer.clear();
            current.encodeTrailer(length, current.dataDigest() && length > 0
                    ? Digests.dataDigest(MemorySegment.ofBuffer(data)) : 0, trailer);
            writeWithBatch(length > 0 ? data : null);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes what is batched, the encoded {@link #header}, and {@code data} (null: none) with the
     * encoded {@link #trailer}, in one gathering write. Caller holds the lock.
     */
    private void writeWithBatch(ByteBuffer data) throws IOException {
        header.flip();
        int count = 0;
        if (batch.position() > 0) {
            gather[count++] = batch.flip();
        }
        gather[count++] = header;
        if (data != null) {
            trailer.flip();
            gather[count++] = data;
            gather[count++] = trailer;
        }
        try {
            writeFully(count);
        } finally {
            batch.clear();
            batched = 0;
            // Do not keep a task buffer reachable from the sender after the write.
            Arrays.fill(gather, null);
        }
    }

    /** Writes what the batching thread has batched; a no-op when nothing waits. */
    void flush() throws IOException {
        lock.lock();
        try {
            flushLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Writes the batch if it holds at least {@code atLeast} PDUs. */
    void flushIfBatched(int atLeast) throws IOException {
        lock.lock();
        try {
            if (batched >= atLeast) {
                flushLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    private void flushLocked() throws IOException {
        if (batch.position() == 0) {
            return;
        }
        gather[0] = batch.flip();
        try {
            writeFully(1);
        } finally {
            batch.clear();
            batched = 0;
            gather[0] = null;
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
