package io.ostia.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class IscsiUrlTest {

    @Test
    void parsesLibiscsiForm() {
        IscsiUrl url = IscsiUrl.parse("iscsi://alice%s3cr3t-secret@127.0.0.1:3261/iqn.2026-11.io.ostia:disk/2");
        assertEquals("127.0.0.1", url.host());
        assertEquals(3261, url.port());
        assertEquals(Optional.of("iqn.2026-11.io.ostia:disk"), url.targetName());
        assertEquals(OptionalInt.of(2), url.lun());
        assertEquals(ChapCredentials.oneWay("alice", "s3cr3t-secret"), url.chap().orElseThrow());
        assertEquals("iscsi://alice%***@127.0.0.1:3261/iqn.2026-11.io.ostia:disk/2", url.toString());
    }

    @Test
    void portalOnlyAndDefaults() {
        IscsiUrl url = IscsiUrl.parse("iscsi://[::1]");
        assertEquals("::1", url.host());
        assertEquals(3260, url.port());
        assertTrue(url.targetName().isEmpty());
        assertFalse(url.lun().isPresent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, url::requireTarget);
        assertTrue(e.getMessage().contains("names no target"), e.getMessage());
    }

    @Test
    void mutualChapFromQuery() {
        IscsiUrl url = IscsiUrl.parse("iscsi://u%p4ssword@h:1/iqn.x/0?target_user=t&target_password=tp4ssword");
        ChapCredentials chap = url.chap().orElseThrow();
        assertTrue(chap.isMutual());
        assertEquals(Optional.of("t"), chap.targetUser());
    }

    @Test
    void badUrlsNameTheProblem() {
        assertMessage("not an iSCSI URL", "http://h/x/0");
        assertMessage("port 'abc' in iSCSI URL is not a number", "iscsi://h:abc/x/0");
        assertMessage("port 70000 in iSCSI URL is outside 1..65535", "iscsi://h:70000/x/0");
        assertMessage("LUN 'x' in iSCSI URL is not a number", "iscsi://h/iqn.t/x");
        assertMessage("no password", "iscsi://user@h/iqn.t/0");
        assertMessage("unknown iSCSI URL option 'foo'", "iscsi://h/iqn.t/0?foo=1");
        assertMessage("must differ", "iscsi://u%same@h/iqn.t/0?target_user=t&target_password=same");
    }

    @Test
    void passwordNeverInErrorMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IscsiUrl.parse("iscsx://u%topsecret@h/iqn.t/0"));
        assertFalse(e.getMessage().contains("topsecret"), e.getMessage());
    }

    private static void assertMessage(String expected, String url) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IscsiUrl.parse(url));
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
