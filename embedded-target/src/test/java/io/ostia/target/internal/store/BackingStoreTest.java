package io.ostia.target.internal.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackingStoreTest {

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static void roundTrip(BackingStore store) throws IOException {
        byte[] data = pattern(8192, 7);
        store.write(4096, MemorySegment.ofArray(data));
        byte[] back = new byte[8192];
        store.read(4096, MemorySegment.ofArray(back));
        assertArrayEquals(data, back);
        store.unmap(4096, 4096);
        store.read(4096, MemorySegment.ofArray(back));
        for (int i = 0; i < 4096; i++) {
            assertEquals(0, back[i], "unmapped byte " + i);
        }
        assertEquals(data[4096], back[4096], "bytes after the unmapped range survive");
        store.flush();
    }

    @Test
    void ramStoreRoundTripsAndReleasesItsMemory() throws IOException {
        RamStore store = new RamStore(1 << 20, 512, false);
        roundTrip(store);
        assertTrue(store.isOpen());
        store.close();
        assertFalse(store.isOpen());
        store.close(); // idempotent
    }

    @Test
    void ramStoreReadsToOffHeapSegments() throws IOException {
        try (RamStore store = new RamStore(1 << 16, 4096, false); Arena arena = Arena.ofConfined()) {
            store.write(0, MemorySegment.ofArray(pattern(4096, 1)));
            MemorySegment dst = arena.allocate(4096);
            store.read(0, dst);
            assertArrayEquals(pattern(4096, 1), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void fileStoreRoundTripsAndPersists(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("lun.img");
        try (FileStore store = new FileStore(file, 1 << 20, 4096, false)) {
            roundTrip(store);
            store.write(0, MemorySegment.ofArray(pattern(4096, 3)));
        }
        assertEquals(1 << 20, Files.size(file));
        try (FileStore again = new FileStore(file, 0, 4096, true)) {
            assertEquals(1 << 20, again.sizeBytes());
            assertTrue(again.readOnly());
            byte[] back = new byte[4096];
            again.read(0, MemorySegment.ofArray(back));
            assertArrayEquals(pattern(4096, 3), back);
        }
    }

    @Test
    void badGeometryIsRefusedWithTheReason(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RamStore(1000, 512, false));
        assertTrue(e.getMessage().contains("multiple of the block size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RamStore(4096, 1024, false));
        assertTrue(e.getMessage().contains("512 or 4096"), e.getMessage());
        IOException io = assertThrows(IOException.class,
                () -> new FileStore(Files.write(dir.resolve("small"), new byte[512]), 4096, 512, true));
        assertTrue(io.getMessage().contains("fewer than the requested"), io.getMessage());
    }
}
