package io.ostia.api.scsi;

/**
 * A logical unit's size as READ CAPACITY reports it.
 *
 * @param blockCount  number of logical blocks (last LBA + 1)
 * @param blockLength bytes per logical block
 */
public record Capacity(long blockCount, int blockLength) {

    /** READ CAPACITY (10) reports this last LBA when the unit needs READ CAPACITY (16). */
    public static final long LAST_LBA_NEEDS_16 = 0xffff_ffffL;

    public Capacity {
        if (blockCount < 0) {
            throw new IllegalArgumentException("negative block count " + blockCount);
        }
        if (blockLength <= 0) {
            throw new IllegalArgumentException("block length " + blockLength + " must be positive");
        }
    }

    public long bytes() {
        return blockCount * blockLength;
    }

    /**
     * The blocks a transfer of {@code bytes} moves: a buffer's check before its command.
     *
     * @throws IllegalArgumentException when {@code bytes} is no positive whole number of blocks,
     *         or more blocks than a command can name
     */
    public int blocksIn(long bytes) {
        if (bytes <= 0 || bytes % blockLength != 0) {
            throw new IllegalArgumentException("buffer of " + bytes + " bytes is not a positive whole number of "
                    + blockLength + "-byte blocks");
        }
        long blocks = bytes / blockLength;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("transfer of " + blocks + " blocks is too long");
        }
        return (int) blocks;
    }

    /** Parses READ CAPACITY (10) parameter data (8 bytes). */
    public static Capacity parse10(byte[] data, int length) {
        if (length < 8) {
            throw new IllegalArgumentException("READ CAPACITY (10) data is " + length + " bytes, need 8");
        }
        long lastLba = Integer.toUnsignedLong(getInt(data, 0));
        return new Capacity(lastLba + 1, getInt(data, 4));
    }

    /** Parses READ CAPACITY (16) parameter data (at least 12 bytes). */
    public static Capacity parse16(byte[] data, int length) {
        if (length < 12) {
            throw new IllegalArgumentException("READ CAPACITY (16) data is " + length + " bytes, need 12");
        }
        long lastLba = (long) getInt(data, 0) << 32 | Integer.toUnsignedLong(getInt(data, 4));
        if (lastLba < 0 || lastLba == Long.MAX_VALUE) {
            throw new IllegalArgumentException("READ CAPACITY (16) reports an impossible last LBA " + Long.toUnsignedString(lastLba));
        }
        return new Capacity(lastLba + 1, getInt(data, 8));
    }

    static int getInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
