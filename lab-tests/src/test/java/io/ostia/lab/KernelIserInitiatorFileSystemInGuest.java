package io.ostia.lab;

import io.ostia.target.IscsiTarget;

import static io.ostia.lab.KernelInitiator.run;

/**
 * The kernel's iSER initiator ({@code ib_iser}, open-iscsi's {@code iser} interface) against
 * Ostia's iSER portal on the lab guest's Soft-RoCE device: discovery and login over iSER, then the
 * same file-system and O_DIRECT tests as over TCP.
 */
class KernelIserInitiatorFileSystemInGuest extends KernelInitiatorFileSystemInGuest {

    @Override
    IscsiTarget.Builder portal(IscsiTarget.Builder builder) {
        String address = Rxe.address();
        run("modprobe", "ib_iser");
        return builder.iserPortal(address, 0, Rxe.provider());
    }

    @Override
    String host() {
        return Rxe.address();
    }

    @Override
    String iface() {
        return "iser";
    }
}
