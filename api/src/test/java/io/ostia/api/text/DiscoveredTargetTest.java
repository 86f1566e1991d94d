package io.ostia.api.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DiscoveredTargetTest {

    @Test
    void groupsASendTargetsAnswer() throws TextFormatException {
        byte[] answer = ("TargetName=iqn.2025-11.io.ostia:golden\0TargetAddress=127.0.0.1:3260,1\0"
                + "TargetAddress=[fe80::1]:3261,2\0TargetName=iqn.2025-11.io.ostia:other\0TargetAlias=Other disk\0"
                + "TargetAddress=storage.example\0").getBytes(StandardCharsets.UTF_8);
        List<DiscoveredTarget> targets = DiscoveredTarget.fromSendTargets(TextCodec.parse(answer));
        assertEquals(List.of(
                new DiscoveredTarget("iqn.2025-11.io.ostia:golden", List.of(new TargetAddress("127.0.0.1", 3260, 1),
                        new TargetAddress("fe80::1", 3261, 2)), Optional.empty()),
                new DiscoveredTarget("iqn.2025-11.io.ostia:other", List.of(new TargetAddress("storage.example",
                        TargetAddress.DEFAULT_PORT, TargetAddress.NO_PORTAL_GROUP_TAG)), Optional.of("Other disk"))),
                targets);
        assertEquals("[fe80::1]:3261,2", targets.getFirst().addresses().get(1).toString());
    }

    @Test
    void malformedAnswersAreReported() {
        assertThrows(TextFormatException.class,
                () -> DiscoveredTarget.fromSendTargets(List.of(new KeyValue("TargetAddress", "10.0.0.1:3260,1"))));
        for (String bad : List.of("10.0.0.1:0", "10.0.0.1:70000", "[fe80::1", "[fe80::1]x", ":3260", "host:port",
                "10.0.0.1:3260,x")) {
            TextFormatException failure = assertThrows(TextFormatException.class, () -> TargetAddress.parse(bad), bad);
            assertEquals("TargetAddress", failure.key());
        }
    }
}
