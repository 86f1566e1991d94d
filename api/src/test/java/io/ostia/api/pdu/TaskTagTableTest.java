package io.ostia.api.pdu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class TaskTagTableTest {

    /**
     * Random operations against a HashMap as the model. Tag patterns: sequential (ITTs), few
     * distinct tags (many collisions of the same run), and any 32-bit values including negative
     * ones and 0xffffffff.
     */
    @ParameterizedTest(name = "tag pattern {0}")
    @ValueSource(ints = {0, 1, 2})
    void behavesAsAMap(int pattern) {
        SplittableRandom random = new SplittableRandom(31 + pattern);
        TaskTagTable<String> table = new TaskTagTable<>(4);
        Map<Integer, String> model = new HashMap<>();
        int sequence = 0x7ffffff0; // crosses into negative tags
        for (int step = 0; step < 200_000; step++) {
            int tag = switch (pattern) {
                case 0 -> sequence + random.nextInt(300);
                case 1 -> random.nextInt(40) << 16; // equal low bits
                default -> random.nextInt();
            };
            if (pattern == 0 && random.nextInt(4) == 0) {
                sequence++;
            }
            String value = "v" + step;
            switch (random.nextInt(6)) {
                case 0 -> assertEquals(model.putIfAbsent(tag, value), table.putIfAbsent(tag, value));
                case 1 -> assertEquals(model.put(tag, value), table.put(tag, value));
                case 2, 3 -> assertEquals(model.remove(tag), table.remove(tag));
                case 4 -> {
                    String current = model.get(tag);
                    boolean same = current != null && random.nextBoolean();
                    String expected = same ? current : value;
                    assertEquals(model.remove(tag, expected) && same, table.remove(tag, same ? table.get(tag) : value));
                }
                default -> {
                    assertEquals(model.get(tag), table.get(tag));
                    assertEquals(model.containsKey(tag), table.containsKey(tag));
                }
            }
            assertEquals(model.size(), table.size());
        }
        assertEquals(new HashSet<>(model.values()), new HashSet<>(table.values()));
        List<String> all = table.removeAll();
        assertEquals(model.size(), all.size());
        assertTrue(table.isEmpty());
        for (int tag : model.keySet()) {
            assertNull(table.get(tag), "removeAll left tag " + tag);
        }
    }

    @Test
    void removeWithValueComparesIdentity() {
        TaskTagTable<String> table = new TaskTagTable<>(8);
        String value = new String("task");
        table.put(7, value);
        assertFalse(table.remove(7, new String("task")), "an equal but other object is not removed");
        assertTrue(table.remove(7, value));
        assertNull(table.get(7));
    }

    @Test
    void nullValuesAndNegativeSizesAreRefused() {
        TaskTagTable<String> table = new TaskTagTable<>(8);
        assertThrows(NullPointerException.class, () -> table.put(1, null));
        assertThrows(NullPointerException.class, () -> table.putIfAbsent(1, null));
        assertThrows(IllegalArgumentException.class, () -> new TaskTagTable<String>(-1));
    }

    /** Threads adding and removing their own tags at once leave nothing behind and lose nothing. */
    @Test
    void threadsSharingTheTableLoseNothing() throws Exception {
        TaskTagTable<Integer> table = new TaskTagTable<>(16);
        int threads = 4;
        int perThread = 100_000;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t << 24;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        int tag = base + i;
                        assertNull(table.putIfAbsent(tag, i));
                        if (i >= 32) {
                            assertEquals(i - 32, table.remove(tag - 32));
                        }
                    }
                    for (int i = perThread - 32; i < perThread; i++) {
                        assertEquals(i, table.remove(base + i));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (Thread worker : workers) {
            worker.join(60_000);
            assertFalse(worker.isAlive(), "worker finished");
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(0, table.size());
    }

    @Test
    void snapshotIsDetachedFromTheTable() {
        TaskTagTable<String> table = new TaskTagTable<>(8);
        table.put(1, "a");
        List<String> values = table.values();
        table.put(2, "b");
        assertEquals(List.of("a"), values);
        assertSame("b", table.get(2));
    }
}
