package io.ostia.api.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CapacityTest {

    private final Capacity capacity = new Capacity(1 << 20, 512);

    @Test
    void aBufferOfWholeBlocksMovesThatManyBlocks() {
        assertEquals(1, capacity.blocksIn(512));
        assertEquals(8, capacity.blocksIn(4096));
        assertEquals(Integer.MAX_VALUE, capacity.blocksIn(512L * Integer.MAX_VALUE));
    }

    @Test
    void aBufferOfNoPositiveWholeNumberOfBlocksIsRefusedNamingItsSize() {
        for (long bytes : new long[] {0, -512, 700, 511}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> capacity.blocksIn(bytes));
            assertEquals("buffer of " + bytes + " bytes is not a positive whole number of 512-byte blocks",
                    e.getMessage());
        }
    }

    @Test
    void moreBlocksThanACommandCanNameAreRefused() {
        long blocks = Integer.MAX_VALUE + 1L;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> capacity.blocksIn(512 * blocks));
        assertEquals("transfer of " + blocks + " blocks is too long", e.getMessage());
    }
}
