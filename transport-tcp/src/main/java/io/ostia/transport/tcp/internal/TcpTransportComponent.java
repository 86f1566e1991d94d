package io.ostia.transport.tcp.internal;

import io.ostia.transport.lifecycle.TransportRegistration;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.time.Duration;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The TCP transport in OSGi. Activation is module init: it creates the transport and only then
 * registers it; deactivation is module exit, whose last step unregisters. Both are the shared
 * {@link TransportRegistration}'s, which says why the service is registered by hand.
 *
 * <p>A configuration change is applied in place ({@link #modified}): connections made afterwards
 * take the new values, connections already up keep theirs, and no session is bounced. No
 * setting needs a restart.
 */
@Component(service = {}, immediate = true, configurationPid = TcpTransportComponent.PID)
@Designate(ocd = TcpTransportComponent.Config.class)
public final class TcpTransportComponent {

    static final String PID = "io.ostia.transport.tcp";

    @ObjectClassDefinition(name = "Ostia iSCSI TCP transport",
            description = "Timeouts and socket buffers of the iSCSI over TCP transport")
    public @interface Config {
        @AttributeDefinition(name = "Release timeout (ms)", min = "1",
                description = "How long stopping the transport waits for sessions to move off it before "
                        + "force-releasing their connections")
        long releaseTimeoutMillis() default 10_000;

        @AttributeDefinition(name = "Connect timeout (ms)", min = "1",
                description = "How long a TCP connect to a target may take")
        long connectTimeoutMillis() default 10_000;

        @AttributeDefinition(name = "Progress timeout (ms)", min = "1",
                description = "How long a send may wait for the socket to take a byte before the connection fails")
        long progressTimeoutMillis() default 30_000;

        @AttributeDefinition(name = "Send buffer (bytes)", min = "0",
                description = "SO_SNDBUF; 0 keeps the kernel's auto-tuning")
        int sendBufferSize() default 0;

        @AttributeDefinition(name = "Receive buffer (bytes)", min = "0",
                description = "SO_RCVBUF; 0 keeps the kernel's auto-tuning")
        int receiveBufferSize() default 0;
    }

    private static final System.Logger LOG = System.getLogger(TcpTransportComponent.class.getName());

    private final TransportRegistration registration;
    private final TcpTransport transport;

    @Activate
    public TcpTransportComponent(BundleContext context, Config config) {
        TcpTransportOptions options = options(config);
        registration = new TransportRegistration(context, "TCP", unregister -> new TcpTransport(options, unregister));
        transport = (TcpTransport) registration.transport();
    }

    /**
     * A new configuration, applied without deactivating (which would make every session move or
     * fail). A bad value is refused with the reason logged, and the current options kept.
     */
    @Modified
    void modified(Config config) {
        TcpTransportOptions next;
        try {
            next = options(config);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "configuration " + PID + " refused, keeping the current options: "
                    + e.getMessage(), e);
            return;
        }
        transport.reconfigure(next);
        LOG.log(System.Logger.Level.INFO, () -> "TCP transport options now " + next + "; open connections keep theirs");
    }

    static TcpTransportOptions options(Config config) {
        return new TcpTransportOptions(Duration.ofMillis(config.releaseTimeoutMillis()),
                Duration.ofMillis(config.connectTimeoutMillis()), Duration.ofMillis(config.progressTimeoutMillis()),
                config.sendBufferSize(), config.receiveBufferSize());
    }

    /** Module exit: the transport's leaving order, whose last step unregisters the service. */
    @Deactivate
    void deactivate() {
        registration.close();
    }
}
