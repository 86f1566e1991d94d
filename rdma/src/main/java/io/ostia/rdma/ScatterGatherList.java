package io.ostia.rdma;

import java.util.Objects;

/**
 * The scatter/gather entries of one work request: (address, length, lkey) triples naming bytes
 * inside registered memory regions. Reusable: {@link #clear()} and refill; adding entries does
 * not allocate.
 */
public final class ScatterGatherList {
    /** Most entries one work request may carry. */
    public static final int MAX_ENTRIES = 16;

    private final long[] addresses = new long[MAX_ENTRIES];
    private final int[] lengths = new int[MAX_ENTRIES];
    private final int[] lkeys = new int[MAX_ENTRIES];
    private int count;

    ScatterGatherList() {
    }

    /** Removes every entry. */
    public void clear() {
        count = 0;
    }

    /**
     * Adds {@code length} bytes at {@code offset} inside {@code region}.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the region
     * @throws IllegalStateException if the list already holds {@link #MAX_ENTRIES} entries
     */
    public void add(MemoryRegion region, long offset, int length) {
        Objects.requireNonNull(region, "region");
        Objects.checkFromIndexSize(offset, length, region.length());
        add(region.address() + offset, length, region.lkey());
    }

    /**
     * Adds a raw entry. The provider checks it against the registered regions when the request
     * is executed (a bad lkey or range gives a {@link WorkCompletionStatus#LOCAL_PROTECTION_ERROR}).
     */
    public void add(long address, int length, int lkey) {
        if (length < 0) {
            throw new IllegalArgumentException("scatter/gather length must not be negative: " + length);
        }
        if (count == MAX_ENTRIES) {
            throw new IllegalStateException("a work request holds at most " + MAX_ENTRIES + " scatter/gather entries");
        }
        addresses[count] = address;
        lengths[count] = length;
        lkeys[count] = lkey;
        count++;
    }

    public int count() {
        return count;
    }

    public long address(int index) {
        return addresses[Objects.checkIndex(index, count)];
    }

    public int length(int index) {
        return lengths[Objects.checkIndex(index, count)];
    }

    public int lkey(int index) {
        return lkeys[Objects.checkIndex(index, count)];
    }

    /** Sum of the entry lengths. */
    public long totalLength() {
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += lengths[i];
        }
        return total;
    }
}
