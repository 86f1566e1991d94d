package io.ostia.cli;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes allocated on the heap by each thread of this JVM from a start, grouped by thread name
 * (its first three dash-separated words, so "ostia-iser-cq-127.0.0.1:3260" counts as
 * "ostia-iser-cq"). For the figure "allocated bytes per I/O": the I/O path should allocate nothing.
 * Threads that end between start and {@link #since} lose what they allocated.
 */
final class Allocations {
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> atStart = new HashMap<>();

    /** Starts counting now; null if this JVM cannot measure per-thread allocation. */
    static Allocations start() {
        Allocations allocations = new Allocations();
        if (!allocations.threads.isThreadAllocatedMemorySupported()) {
            return null;
        }
        allocations.threads.setThreadAllocatedMemoryEnabled(true);
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            allocations.atStart.put(thread.threadId(), allocations.threads.getThreadAllocatedBytes(thread.threadId()));
        }
        return allocations;
    }

    /** Bytes allocated since the start, by thread group, groups in name order. */
    Map<String, Long> since() {
        Map<String, Long> groups = new TreeMap<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            long now = threads.getThreadAllocatedBytes(thread.threadId());
            if (now < 0) {
                continue; // ended meanwhile
            }
            long bytes = now - atStart.getOrDefault(thread.threadId(), 0L);
            groups.merge(group(thread.getName()), bytes, Long::sum);
        }
        return groups;
    }

    static String group(String threadName) {
        String[] words = threadName.split("-", 4);
        return words.length <= 3 ? threadName : String.join("-", words[0], words[1], words[2]);
    }
}
