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
    void buffersAreReusedAndCountedAgainstTheTargetBudget() {
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
            MemorySegment big2 = b.take(BufferPool.maxBuffer());
            MemorySegment big3 = b.take(BufferPool.maxBuffer());
            assertTrue(a.affords(BufferPool.maxBuffer()), "768 MiB of 1 GiB lent");
            MemorySegment big4 = a.take(BufferPool.maxBuffer());
            assertFalse(b.affords(4096), "the budget is the target's, not one connection's");
            b.give(big2);
            assertTrue(b.affords(BufferPool.maxBuffer()));
            a.give(big);
            a.give(big4);
            b.give(big3);
            assertThrows(IllegalArgumentException.class, () -> a.take(BufferPool.maxBuffer() + 1));
        }
        assertEquals(0, lent.get(), "closing the pools returns what was still lent");
    }
}
