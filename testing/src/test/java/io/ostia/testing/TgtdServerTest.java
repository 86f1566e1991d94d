package io.ostia.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixture itself, checked with libiscsi's tools as the independent client. */
class TgtdServerTest {

    @TempDir
    Path dir;

    @Test
    void servesALunThatLibiscsiSeesAndStopsCleanly() throws Exception {
        assumeTrue(TgtdServer.unavailability().isEmpty(), () -> "tgtd cannot run: " + TgtdServer.unavailability().get());
        assumeTrue(ExternalTool.missing("libiscsi-bin", "iscsi-inq").isEmpty(), "iscsi-inq not installed (libiscsi-bin)");
        TgtdServer server = TgtdServer.start(dir);
        try {
            TgtdServer.Target target = server.createTarget("iqn.2026-11.io.ostia.test:fixture");
            server.addLun(target, 1, 8L << 20);
            String inquiry = ExternalTool.run(Duration.ofSeconds(20),
                    List.of("iscsi-inq", "-i", "iqn.2026-11.io.ostia.test:client", server.url(target, 1)))
                    .requireSuccess().output();
            assertTrue(inquiry.contains("Peripheral Device Type:DIRECT_ACCESS"), inquiry);
            assertTrue(inquiry.contains("Product:VIRTUAL-DISK"), inquiry);
        } finally {
            server.close();
        }
        assertFalse(server.isAlive());
        assertEquals(-1, server.log().indexOf("Segmentation"), server.log());
    }
}
