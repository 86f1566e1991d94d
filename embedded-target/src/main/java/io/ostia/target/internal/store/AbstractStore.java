package io.ostia.target.internal.store;

/** The geometry every store kind shares: capacity, block size, read-only flag. */
abstract class AbstractStore implements BackingStore {

    private final long sizeBytes;
    private final int blockSize;
    private final boolean readOnly;

    AbstractStore(long sizeBytes, int blockSize, boolean readOnly) {
        BackingStore.checkGeometry(sizeBytes, blockSize);
        this.sizeBytes = sizeBytes;
        this.blockSize = blockSize;
        this.readOnly = readOnly;
    }

    @Override
    public final long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public final int blockSize() {
        return blockSize;
    }

    @Override
    public final boolean readOnly() {
        return readOnly;
    }
}
