package io.ostia.api;

import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.InquiryData;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One logical unit of a session, as a block device.
 *
 * <p>Buffers are native memory segments whose size is a whole number of blocks; the device
 * reads into or writes from them without copying. Asynchronous calls complete their future on
 * a transport thread: keep dependent actions short, or hand them to an executor. Issuing the next
 * asynchronous command from there is the fastest path (the transport sends such commands together
 * once the responses at hand are handled); waiting there for a command's result, with a blocking
 * call or {@code join}, never ends, as that thread is the one that delivers results. A future fails
 * with {@link ScsiException} (status and sense), {@link IscsiTimeoutException} or
 * {@link TransportException}; the blocking forms throw the same exceptions.
 */
@ProviderType
public interface BlockDevice {

    int lun();

    /** Size as READ CAPACITY reported it when the device was opened. */
    Capacity capacity();

    /** Standard INQUIRY data read when the device was opened. */
    InquiryData inquiry();

    default int blockSize() {
        return capacity().blockLength();
    }

    default long blockCount() {
        return capacity().blockCount();
    }

    /** Reads {@code buffer.byteSize() / blockSize()} blocks starting at {@code lba}. */
    CompletableFuture<Void> readAsync(long lba, MemorySegment buffer);

    /** Writes {@code buffer.byteSize() / blockSize()} blocks starting at {@code lba}. */
    CompletableFuture<Void> writeAsync(long lba, MemorySegment buffer);

    /** SYNCHRONIZE CACHE of the whole unit. */
    CompletableFuture<Void> flushAsync();

    default void read(long lba, MemorySegment buffer) throws IscsiException {
        Futures.await(readAsync(lba, buffer));
    }

    default void write(long lba, MemorySegment buffer) throws IscsiException {
        Futures.await(writeAsync(lba, buffer));
    }

    default void flush() throws IscsiException {
        Futures.await(flushAsync());
    }

    /**
     * A reusable transfer over one buffer: {@link #slot(MemorySegment, SlotListener)}. Where the
     * futures of {@link #readAsync} cost objects per command, a slot's transfers cost none on
     * Ostia's initiator: its command state is made once, with the slot.
     */
    @ProviderType
    interface Slot {
        /** The buffer every transfer of this slot reads into or writes from. */
        MemorySegment buffer();

        /**
         * Reads the slot's buffer's worth of blocks at {@code lba}; the listener hears the end.
         *
         * @throws IllegalStateException when the slot's previous transfer has not ended
         */
        void read(long lba);

        /** Writes the slot's buffer at {@code lba}; as {@link #read}. */
        void write(long lba);
    }

    /** Hears the end of a {@link Slot}'s transfer, on a transport thread, as a future's action would. */
    @ConsumerType
    @FunctionalInterface
    interface SlotListener {
        /**
         * The transfer ended: {@code failure} is null when it moved the whole buffer with GOOD
         * status, else what a future of {@link #readAsync} fails with. The slot may be reissued
         * from here.
         */
        void transferred(Slot slot, Throwable failure);
    }

    /**
     * A slot for one transfer at a time over {@code buffer} (native, from a shared, global or
     * automatic arena, a whole number of blocks). This default runs each transfer through
     * {@link #readAsync} or {@link #writeAsync}.
     *
     * @throws IllegalArgumentException when the buffer is no whole positive number of blocks
     */
    default Slot slot(MemorySegment buffer, SlotListener listener) {
        capacity().blocksIn(buffer.byteSize());
        java.util.Objects.requireNonNull(listener, "listener");
        BlockDevice device = this;
        return new Slot() {
            private final AtomicBoolean busy = new AtomicBoolean();

            @Override
            public MemorySegment buffer() {
                return buffer;
            }

            @Override
            public void read(long lba) {
                start();
                device.readAsync(lba, buffer).whenComplete(this::end);
            }

            @Override
            public void write(long lba) {
                start();
                device.writeAsync(lba, buffer).whenComplete(this::end);
            }

            private void start() {
                if (!busy.compareAndSet(false, true)) {
                    throw new IllegalStateException("the slot's previous transfer has not ended");
                }
            }

            private void end(Void ignored, Throwable failure) {
                busy.set(false);
                listener.transferred(this, failure instanceof CompletionException c && c.getCause() != null
                        ? c.getCause() : failure);
            }
        };
    }
}
