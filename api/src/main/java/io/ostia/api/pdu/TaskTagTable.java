package io.ostia.api.pdu;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Values by 32-bit task tag (an Initiator or Target Task Tag): the per-command tables of sessions,
 * transports and targets. Unlike a map of {@code Integer}, an entry costs no allocation and no
 * boxing, which matters at one put and one remove per command.
 *
 * <p>Open addressing with linear probing and backward-shift removal, at most half full. Every
 * method holds the table's monitor for a few probes and never waits for anything else, so the
 * table is safe to share between threads; iteration is by {@linkplain #values snapshot}.
 *
 * @param <T> what is kept per tag; never null
 */
public final class TaskTagTable<T> {

    private static final int MIN_CAPACITY = 16;

    private int[] tags;
    private Object[] values;
    private int size;

    /** A table sized for about {@code expected} entries before it grows. */
    public TaskTagTable(int expected) {
        if (expected < 0) {
            throw new IllegalArgumentException("expected size " + expected + " is negative");
        }
        int capacity = Integer.highestOneBit(Math.max(MIN_CAPACITY, expected * 2 - 1)) << 1;
        tags = new int[capacity];
        values = new Object[capacity];
    }

    public synchronized T get(int tag) {
        int i = find(tag);
        return i < 0 ? null : value(i);
    }

    public synchronized boolean containsKey(int tag) {
        return find(tag) >= 0;
    }

    /** Adds {@code value} unless the tag is taken; returns what holds the tag now if it was taken, else null. */
    public synchronized T putIfAbsent(int tag, T value) {
        Objects.requireNonNull(value, "value");
        int i = slot(tag);
        while (values[i] != null) {
            if (tags[i] == tag) {
                return value(i);
            }
            i = (i + 1) & mask();
        }
        insertAt(i, tag, value);
        return null;
    }

    /** Sets the tag's value; returns the value it replaced, or null. */
    public synchronized T put(int tag, T value) {
        Objects.requireNonNull(value, "value");
        int i = slot(tag);
        while (values[i] != null) {
            if (tags[i] == tag) {
                T previous = value(i);
                values[i] = value;
                return previous;
            }
            i = (i + 1) & mask();
        }
        insertAt(i, tag, value);
        return null;
    }

    /** Removes the tag; returns its value, or null when it was not there. */
    public synchronized T remove(int tag) {
        int i = find(tag);
        if (i < 0) {
            return null;
        }
        T removed = value(i);
        removeAt(i);
        return removed;
    }

    /** Removes the tag only while it holds {@code value} (the same object). */
    public synchronized boolean remove(int tag, T value) {
        int i = find(tag);
        if (i < 0 || values[i] != value) {
            return false;
        }
        removeAt(i);
        return true;
    }

    public synchronized int size() {
        return size;
    }

    public synchronized boolean isEmpty() {
        return size == 0;
    }

    /** The values at this moment, in no particular order. */
    public synchronized List<T> values() {
        List<T> snapshot = new ArrayList<>(size);
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                snapshot.add(value(i));
            }
        }
        return snapshot;
    }

    /** Empties the table; returns what it held, in no particular order. */
    public synchronized List<T> removeAll() {
        List<T> all = values();
        java.util.Arrays.fill(values, null);
        size = 0;
        return all;
    }

    @Override
    public synchronized String toString() {
        return "TaskTagTable(" + size + " entries)";
    }

    private int mask() {
        return values.length - 1;
    }

    /** Where the probe for {@code tag} starts: Fibonacci hashing spreads tags that differ in any bits. */
    private int slot(int tag) {
        return (tag * 0x9E3779B9 >>> 16) & mask();
    }

    private int find(int tag) {
        int i = slot(tag);
        while (values[i] != null) {
            if (tags[i] == tag) {
                return i;
            }
            i = (i + 1) & mask();
        }
        return -1;
    }

    private void insertAt(int i, int tag, T value) {
        tags[i] = tag;
        values[i] = value;
        if (++size * 2 > values.length) {
            grow();
        }
    }

    /** Backward-shift deletion: later entries of the same probe run move up, so no tombstones are needed. */
    private void removeAt(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & mask();
            if (values[i] == null) {
                break;
            }
            int home = slot(tags[i]);
            // The entry at i may fill the hole unless its home lies cyclically in (hole, i].
            boolean homeBetween = hole <= i ? hole < home && home <= i : hole < home || home <= i;
            if (!homeBetween) {
                tags[hole] = tags[i];
                values[hole] = values[i];
                hole = i;
            }
        }
        values[hole] = null;
        size--;
    }

    private void grow() {
        int[] oldTags = tags;
        Object[] oldValues = values;
        tags = new int[oldTags.length * 2];
        values = new Object[oldValues.length * 2];
        for (int j = 0; j < oldValues.length; j++) {
            if (oldValues[j] != null) {
                int i = slot(oldTags[j]);
                while (values[i] != null) {
                    i = (i + 1) & mask();
                }
                tags[i] = oldTags[j];
                values[i] = oldValues[j];
            }
        }
    }

    @SuppressWarnings("unchecked")
    private T value(int i) {
        return (T) values[i];
    }
}
