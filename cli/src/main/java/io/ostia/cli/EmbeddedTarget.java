package io.ostia.cli;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.RdmaProviders;
import io.ostia.target.IscsiTarget;
import io.ostia.transport.iser.IserTransportOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The embedded target of {@code demo}, {@code perf --embedded} and {@code swap}: a RAM LUN on
 * 127.0.0.1, with a TCP portal and, when the transports name iser, an iSER portal on the RDMA
 * provider iSER uses: the native one when it has a device, else the in-JVM loopback fabric (whose
 * device lo0 owns 127.0.0.1). The initiator's iSER transport is set to the same provider.
 */
final class EmbeddedTarget implements AutoCloseable {
    static final String IQN = "iqn.2026-11.io.ostia:demo";

    private final IscsiTarget target;
    private final IscsiUrl url;
    /** The provider iSER runs on, or null when iser is not among the transports. */
    final RdmaProvider rdma;

    private EmbeddedTarget(IscsiTarget target, IscsiUrl url, RdmaProvider rdma) {
        this.target = target;
        this.url = url;
        this.rdma = rdma;
    }

    /**
     * Starts a target with one RAM LUN of {@code size} bytes; its URL names the portal of the
     * first transport in {@code transports}.
     */
    static EmbeddedTarget start(long size, String alias, List<String> transports, PrintStream out)
            throws IscsiException {
        RdmaProvider rdma = transports.contains("iser") ? iserProvider(out) : null;
        IscsiTarget.Builder builder = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(IQN, t -> t.alias(alias).ramLun(size));
        if (rdma != null) {
            builder.iserPortal("127.0.0.1", 0, rdma);
        }
        try {
            IscsiTarget target = builder.build().start();
            InetSocketAddress portal = target.addresses().get(transports.getFirst().equals("iser") ? 1 : 0);
            return new EmbeddedTarget(target, IscsiUrl.parse("iscsi://127.0.0.1:" + portal.getPort() + "/" + IQN + "/0"),
                    rdma);
        } catch (IOException e) {
            if (e instanceof IscsiException iscsi) {
                throw iscsi;
            }
            throw new IscsiException("the embedded target could not start: " + e.getMessage(), e);
        }
    }

    /**
     * The native RDMA provider if it has a device, else the loopback fabric; the iSER transport
     * that ServiceLoader makes afterwards uses it. Call before the initiator is created.
     */
    static RdmaProvider iserProvider(PrintStream out) {
        RdmaProvider nativeProvider = RdmaProviders.byName(RdmaProviders.NATIVE);
        RdmaProvider chosen = nativeProvider.isAvailable() && !nativeProvider.deviceNames().isEmpty()
                ? nativeProvider : RdmaProviders.byName(RdmaProviders.LOOPBACK);
        if (chosen != nativeProvider) {
            out.println("no RDMA device here: iSER runs on the in-JVM loopback fabric");
        }
        System.setProperty(IserTransportOptions.PROVIDER_PROPERTY, chosen.name());
        return chosen;
    }

    IscsiUrl url() {
        return url;
    }

    @Override
    public void close() {
        target.close();
    }
}
