package io.ostia.transport.tcp.internal;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.transport.tcp.TcpTransportOptions;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.atomic.AtomicReference;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The TCP transport in OSGi. Activation is module init: it creates the transport and only then
 * registers it. The service is registered through the bundle context rather than by
 * {@code @Component(service = ...)}, because Declarative Services would unregister such a
 * service before {@code @Deactivate} runs, and the transport's leaving order puts the
 * unregistration last: deactivation closes the transport, whose last step unregisters.
 */
@Component(service = {}, immediate = true, configurationPid = TcpTransportComponent.PID)
@Designate(ocd = TcpTransportComponent.Config.class)
public final class TcpTransportComponent {

    static final String PID = "io.ostia.transport.tcp";
    private static final System.Logger LOG = System.getLogger(TcpTransportComponent.class.getName());

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

    private final AtomicReference<ServiceRegistration<IscsiTransport>> registration = new AtomicReference<>();
    private final TcpTransport transport;

    @Activate
    public TcpTransportComponent(BundleContext context, Config config) {
        transport = new TcpTransport(options(config), this::unregister);
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(IscsiTransport.NAME_PROPERTY, transport.name());
        registration.set(context.registerService(IscsiTransport.class, transport, properties));
        LOG.log(Level.INFO, "TCP transport registered");
    }

    static TcpTransportOptions options(Config config) {
        return new TcpTransportOptions(Duration.ofMillis(config.releaseTimeoutMillis()),
                Duration.ofMillis(config.connectTimeoutMillis()), Duration.ofMillis(config.progressTimeoutMillis()),
                config.sendBufferSize(), config.receiveBufferSize());
    }

    /** Module exit: the transport's leaving order, whose step 5 is {@link #unregister}. */
    @Deactivate
    void deactivate() {
        transport.close();
    }

    private void unregister() {
        ServiceRegistration<IscsiTransport> current = registration.getAndSet(null);
        if (current == null) {
            return;
        }
        try {
            current.unregister();
            LOG.log(Level.INFO, "TCP transport unregistered");
        } catch (IllegalStateException e) {
            // The framework already unregistered it (the bundle stopped without deactivating first).
            LOG.log(Level.WARNING, "the TCP transport service was already unregistered", e);
        }
    }
}
