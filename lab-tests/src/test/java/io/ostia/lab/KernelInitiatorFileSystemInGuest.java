package io.ostia.lab;

import io.ostia.target.IscsiTarget;
import io.ostia.testing.ExternalTool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static io.ostia.lab.KernelInitiator.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Linux kernel's initiator ({@code iscsi_tcp}, driven by open-iscsi) against Ostia's embedded
 * target, in the lab's guest: an ext4 file system made, filled, checked and read back, and raw
 * O_DIRECT I/O that must read back what was written. Each step fails with the tool's output.
 * {@link KernelIserInitiatorFileSystemInGuest} runs the same over iSER.
 */
class KernelInitiatorFileSystemInGuest {

    private static final String TARGET = "iqn.2026-12.io.ostia.lab:kernel-initiator";
    private static final long LUN_BYTES = 128L << 20;

    @TempDir
    Path scratch;
    private IscsiTarget target;

    @BeforeEach
    void startTarget() throws Exception {
        ExternalTool.missing("open-iscsi", "iscsiadm").ifPresent(why -> assumeTrue(false, "not in the lab's guest: " + why));
        target = portal(IscsiTarget.builder())
                .target(TARGET, t -> t.ramLun(LUN_BYTES))
                .build()
                .start();
    }

    /** The target's portal, on {@link #host()}. */
    IscsiTarget.Builder portal(IscsiTarget.Builder builder) {
        return builder.portal(host(), 0);
    }

    /** The address the initiator logs into. */
    String host() {
        return "127.0.0.1";
    }

    /** open-iscsi's interface: {@code default} is TCP ({@code iscsi_tcp}). */
    String iface() {
        return "default";
    }

    private KernelInitiator login() throws InterruptedException {
        return KernelInitiator.login(host(), target.port(), TARGET, iface());
    }

    @AfterEach
    void stopTarget() {
        if (target != null) {
            target.close();
        }
    }

    @Test
    void ext4MadeFilledAndCheckedCleanThroughOstiasTarget() throws Exception {
        Path source = Files.createDirectories(scratch.resolve("source"));
        Random random = new Random(42);
        for (int size : new int[] {0, 1, 4095, 1 << 20, 9 << 20}) {
            byte[] content = new byte[size];
            random.nextBytes(content);
            Files.write(source.resolve("file-" + size), content);
        }
        Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
        // In a folder of its own: mkfs.ext4 adds lost+found beside it.
        String copy = mountPoint.resolve("copy").toString();

        try (KernelInitiator initiator = login()) {
            String disk = initiator.disk().toString();
            run("mkfs.ext4", "-q", "-F", disk);
            run("mount", "-t", "ext4", disk, mountPoint.toString());
            try {
                run("cp", "-a", source.toString(), copy);
                run("sync");
            } finally {
                run("umount", mountPoint.toString());
            }
            run("fsck.ext4", "-fn", disk);

            // Read back through a fresh mount: the page cache of the first one is gone.
            run("mount", "-t", "ext4", "-o", "ro", disk, mountPoint.toString());
            try {
                run("diff", "-r", source.toString(), copy);
            } finally {
                run("umount", mountPoint.toString());
            }
        }
        assertNoSessionLeft();
    }

    @Test
    void directIoToTheRawDiskReadsBackIdentical() throws Exception {
        Path written = scratch.resolve("random");
        Path read = scratch.resolve("read-back");
        byte[] content = new byte[16 << 20];
        new Random(7).nextBytes(content);
        Files.write(written, content);

        try (KernelInitiator initiator = login()) {
            String disk = initiator.disk().toString();
            // Offset by 1 MiB and in 1 MiB blocks: several commands, none at LBA 0.
            run("dd", "if=" + written, "of=" + disk, "bs=1M", "seek=1", "oflag=direct", "conv=fsync", "status=none");
            run("dd", "if=" + disk, "of=" + read, "bs=1M", "skip=1", "count=16", "iflag=direct", "status=none");
            run("cmp", written.toString(), read.toString());
        }
        assertEquals(content.length, Files.size(read));
        assertNoSessionLeft();
    }

    /** After logout the target must see no session (discovery's included) within a bounded wait. */
    private void assertNoSessionLeft() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (target.sessionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(target.sessionCount() == 0, () -> target.sessionCount() + " sessions still open on the target after logout");
    }
}
