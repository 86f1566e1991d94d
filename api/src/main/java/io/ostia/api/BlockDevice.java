package io.ostia.api;

import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.InquiryData;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
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
}
