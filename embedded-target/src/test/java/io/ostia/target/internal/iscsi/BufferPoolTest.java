package io.ostia.target.internal.iscsi;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferPoolTest {

    @Test
    void buffersAreReusedAndCountedAgainstTheShareAndTheTargetBudget() {
        // 1 MiB for the target, 1/4 of it (256 KiB) per connection: the defaults' proportions.
        WriteBudget budget = new WriteBudget(1 << 20, 0.25);
        assertEquals(256 << 10, budget.perConnection());
        try (BufferPool a = new BufferPool(budget); BufferPool b = new BufferPool(budget)) {
            MemorySegment first = a.take(5000);
            assertEquals(5000, first.byteSize());
            assertEquals(8192, budget.lent(), "rounded up to the size class");
            long address = first.address();
            a.give(first);
            assertEquals(0, budget.lent());
            MemorySegment again = a.take(6000);
            assertEquals(address, again.address(), "the same block comes back");
            a.give(again);

            MemorySegment big = a.take(256 << 10);
            assertFalse(a.affords(4096), "one connection holds at most its share of the budget");
            try (BufferPool c = new BufferPool(budget); BufferPool d = new BufferPool(budget)) {
                MemorySegment big2 = b.take(256 << 10);
                MemorySegment big3 = c.take(256 << 10);
                assertTrue(d.affords(256 << 10), "768 KiB of 1 MiB lent");
                MemorySegment big4 = d.take(256 << 10);
                assertFalse(b.affords(4096), "the budget is the target's, not one connection's");
                b.give(big2);
                assertTrue(b.affords(256 << 10));
                assertFalse(a.affords(4096), "a's share is still taken");
                a.give(big);
                assertTrue(a.affords(budget.perConnection()), "a's share is back");
                d.give(big4);
                c.give(big3);
            }
            assertFalse(a.affords((256 << 10) + 1), "a write over the share is never taken (its size class is 512 KiB)");
            assertThrows(IllegalArgumentException.class, () -> a.take(BufferPool.maxBuffer() + 1));
        }
        assertEquals(0, budget.lent(), "closing the pools returns what was still lent");
    }

    /**
     * Each lent buffer answers with its own block's attachment, whichever was taken last; a buffer
     * given back or never lent is refused; every block made is freed once, with its attachment.
     */
    @Test
    void aLentBufferAnswersWithItsOwnBlocksAttachment() {
        java.util.List<Object> freed = new java.util.ArrayList<>();
        int[] made = {0};
        BufferPool.Listener listener = new BufferPool.Listener() {
            @Override
            public Object allocated(MemorySegment block) {
                return "block " + made[0]++;
            }

            @Override
            public void freeing(MemorySegment block, Object attachment) {
                freed.add(attachment);
            }
        };
        try (BufferPool pool = new BufferPool(new WriteBudget(1 << 20, 1), listener)) {
            MemorySegment first = pool.take(4096);
            MemorySegment second = pool.take(3000); // a slice of its block
            assertEquals("block 0", pool.attachment(first), "not the last take's");
            assertEquals("block 1", pool.attachment(second));
            pool.give(first);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.attachment(first));
            assertTrue(e.getMessage().contains("did not lend this segment (4096 bytes) or has had it back"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> pool.attachment(MemorySegment.ofArray(new byte[8])));
            assertEquals("block 0", pool.attachment(pool.take(4000)), "the block is reused with its attachment");
            assertEquals(2, made[0]);
        }
        assertEquals(java.util.Set.of("block 0", "block 1"), new java.util.HashSet<>(freed));
        assertEquals(2, freed.size(), "each block freed once");
    }

    @Test
    void aBudgetOrShareThatCouldBufferNothingIsRefusedWithItsReason() {
        assertEquals("write budget must be at least 4096 bytes (the smallest write buffer), not 4095",
                assertThrows(IllegalArgumentException.class, () -> new WriteBudget(4095, 1)).getMessage());
        for (double share : new double[] {0, -0.5, 1.01, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WriteBudget(1 << 20, share));
            assertEquals("write share must be a fraction of the write budget in (0, 1], not " + share, e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WriteBudget(8192, 0.25));
        assertEquals("write share 0.25 of a 8192-byte budget is 2048 bytes, under the smallest write buffer (4096)",
                e.getMessage());
        assertEquals(8192, new WriteBudget(8192, 1).perConnection(), "a share of 1: one connection may take it all");
        assertEquals(4096, new WriteBudget(8192, 0.5).perConnection());
    }
}
