package io.ostia.target.internal.iscsi;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferPoolTest {

    @Test
    void buffersAreReusedAndCountedAgainstTheShareAndTheTargetBudget() {
        AtomicLong lent = new AtomicLong();
        try (BufferPool a = new BufferPool(lent); BufferPool b = new BufferPool(lent)) {
            MemorySegment first = a.take(5000);
            assertEquals(5000, first.byteSize());
            assertEquals(8192, lent.get(), "rounded up to the size class");
            long address = first.address();
            a.give(first);
            assertEquals(0, lent.get());
            MemorySegment again = a.take(6000);
            assertEquals(address, again.address(), "the same block comes back");
            a.give(again);

            MemorySegment big = a.take(BufferPool.maxBuffer());
            assertFalse(a.affords(4096), "one connection holds at most its share of the budget");
            try (BufferPool c = new BufferPool(lent); BufferPool d = new BufferPool(lent)) {
                MemorySegment big2 = b.take(BufferPool.maxBuffer());
                MemorySegment big3 = c.take(BufferPool.maxBuffer());
                assertTrue(d.affords(BufferPool.maxBuffer()), "768 MiB of 1 GiB lent");
                MemorySegment big4 = d.take(BufferPool.maxBuffer());
                assertFalse(b.affords(4096), "the budget is the target's, not one connection's");
                b.give(big2);
                assertTrue(b.affords(BufferPool.maxBuffer()));
                assertFalse(a.affords(4096), "a's share is still taken");
                a.give(big);
                assertTrue(a.affords(BufferPool.SHARE), "a's share is back");
                d.give(big4);
                c.give(big3);
            }
            assertThrows(IllegalArgumentException.class, () -> a.take(BufferPool.maxBuffer() + 1));
        }
        assertEquals(0, lent.get(), "closing the pools returns what was still lent");
    }
}
