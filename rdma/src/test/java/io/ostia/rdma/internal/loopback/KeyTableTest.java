package io.ostia.rdma.internal.loopback;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The fabric's key table agrees with a HashMap through puts and removes (probe runs shifted back). */
class KeyTableTest {
    @Test
    void agreesWithAHashMapThroughPutsAndRemoves() {
        KeyTable<String> table = new KeyTable<>();
        Map<Integer, String> expected = new HashMap<>();
        String[] values = new String[64];
        for (int i = 0; i < values.length; i++) {
            values[i] = "region " + i;
        }
        Random random = new Random(7);
        for (int step = 0; step < 20_000; step++) {
            // Keys as the fabric makes them (0x101 apart) and a few colliding low bits.
            int key = 0x100 + 0x101 * random.nextInt(200);
            if (random.nextInt(3) == 0) {
                table.remove(key);
                expected.remove(key);
            } else {
                String value = values[random.nextInt(values.length)];
                table.put(key, value);
                expected.put(key, value);
            }
            if (step % 97 == 0) {
                for (int k = 0; k < 200; k++) {
                    int probe = 0x100 + 0x101 * k;
                    assertSame(expected.get(probe), table.get(probe), "key 0x" + Integer.toHexString(probe));
                }
                assertEquals(expected.size(), table.values().size());
            }
        }
    }
}
