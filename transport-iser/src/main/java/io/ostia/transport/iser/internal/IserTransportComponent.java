package io.ostia.transport.iser.internal;

import io.ostia.transport.iser.IserTransportOptions;
import io.ostia.transport.lifecycle.TransportRegistration;
import java.lang.System.Logger.Level;
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
 * The iSER transport in OSGi. Activation is module init: the transport (release queue,
 * connection list, provider probe) and only then its service, through the shared {@link
 * TransportRegistration}; without a usable provider or device it logs why and registers nothing.
 * Deactivation is module exit, the shared leaving order whose last step unregisters.
 *
 * <p>A configuration change of the timeouts is applied in place ({@link #modified}), as the TCP
 * transport's: connections made afterwards take the new values, no session is bounced. The
 * provider and the queue and receive sizes are fixed while the transport runs: such a change is
 * refused with the reason logged, and takes effect when the bundle restarts. While nothing is
 * registered (the provider was unusable) a new configuration is module init again: it may name a
 * provider that works.
 */
@Component(service = {}, immediate = true, configurationPid = IserTransportComponent.PID)
@Designate(ocd = IserTransportComponent.Config.class)
public final class IserTransportComponent {

    static final String PID = "io.ostia.transport.iser";
    private static final System.Logger LOG = System.getLogger(IserTransportComponent.class.getName());

    @ObjectClassDefinition(name = "Ostia iSCSI iSER transport",
            description = "RDMA provider, timeouts and queue sizes of the iSCSI over RDMA transport")
    public @interface Config {
        @AttributeDefinition(name = "RDMA provider", options = {
                @org.osgi.service.metatype.annotations.Option(value = "native", label = "native (libibverbs)"),
                @org.osgi.service.metatype.annotations.Option(value = "loopback", label = "loopback (in-JVM fabric)")},
                description = "Which verbs implementation carries the connections")
        String provider() default "native";

        @AttributeDefinition(name = "Release timeout (ms)", min = "1",
                description = "How long stopping waits for sessions to move off, and a release for stop and flush")
        long releaseTimeoutMillis() default 10_000;

        @AttributeDefinition(name = "Connect timeout (ms)", min = "1",
                description = "How long address and route resolution may each take")
        long connectTimeoutMillis() default 10_000;

        @AttributeDefinition(name = "Largest queue depth", min = "1", max = "4096",
                description = "Tasks one connection may carry; sizes queue pairs and completion queues")
        int maxQueueDepth() default 128;

        @AttributeDefinition(name = "Receive data segment (bytes)", min = "8192",
                description = "The data segment each posted receive holds (InitiatorRecvDataSegmentLength)")
        int receiveDataSegmentLength() default IserTransportOptions.LOGIN_DATA_SEGMENT_LENGTH;

        @AttributeDefinition(name = "Unexpected PDUs", min = "2", max = "1024",
                description = "Receives kept for PDUs the target sends unasked (MaxOutstandingUnexpectedPDUs)")
        int maxUnexpectedPdus() default 4;
    }

    private final BundleContext context;
    /** Null while the provider could not be used: nothing was registered, nothing is to undo. */
    private TransportRegistration registration;

    @Activate
    public IserTransportComponent(BundleContext context, Config config) {
        this.context = context;
        registration = register(context, config);
    }

    /** Module init: the transport, then its service; null, with the reason logged, when the provider is unusable. */
    private static TransportRegistration register(BundleContext context, Config config) {
        IserTransportOptions options;
        try {
            options = options(config);
            return new TransportRegistration(context, "iSER", unregister -> new IserTransport(options, unregister));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the iSER transport is not registered: " + e.getMessage());
            return null;
        }
    }

    /**
     * A new configuration, applied without deactivating (which would move every session off
     * iSER and back). A bad value or one that needs a restart is refused with the reason logged,
     * and the current options kept.
     */
    @Modified
    synchronized void modified(Config config) {
        if (registration == null) {
            registration = register(context, config);
            return;
        }
        IserTransportOptions next;
        try {
            next = options(config);
            ((IserTransport) registration.transport()).reconfigure(next);
        } catch (IllegalArgumentException e) {
            LOG.log(Level.ERROR, "configuration " + PID + " refused, keeping the current options: " + e.getMessage(), e);
            return;
        }
        LOG.log(Level.INFO, () -> "iSER transport options now " + next + "; open connections keep theirs");
    }

    static IserTransportOptions options(Config config) {
        return new IserTransportOptions(config.provider(), Duration.ofMillis(config.releaseTimeoutMillis()),
                Duration.ofMillis(config.connectTimeoutMillis()), config.maxQueueDepth(),
                config.receiveDataSegmentLength(), config.maxUnexpectedPdus());
    }

    /** Module exit: the transport's leaving order, whose last step unregisters the service. */
    @Deactivate
    synchronized void deactivate() {
        if (registration != null) {
            registration.close();
            registration = null;
        }
    }
}
