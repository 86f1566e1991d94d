package io.ostia.target.internal.iscsi;

import io.ostia.target.internal.scsi.LogicalUnit;
import io.ostia.target.internal.store.RamStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetServerTest {

    private static final String IQN = "iqn.2026-01.io.ostia:closed";

    /** Nothing would stop the portals and threads a start after close brings up. */
    @Test
    void aClosedServerDoesNotStart() {
        TargetServer server = new TargetServer(
                List.of(new TargetNode(IQN, "", Map.of(0, new LogicalUnit(0, new RamStore(1 << 20, 512, false),
                        "SN0001", 0x1234)), Optional.empty())),
                List.of(new TargetServer.PortalSpec("127.0.0.1", 0)),
                TargetServer.Settings.defaults().withLogoutGrace(Duration.ZERO));
        server.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, server::start);
        assertTrue(e.getMessage().contains(IQN), e.getMessage());
        assertTrue(server.addresses().isEmpty());
    }
}
