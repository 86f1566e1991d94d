package io.ostia.transport.lifecycle;

import io.ostia.api.spi.IscsiTransport;
import java.lang.System.Logger.Level;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * The OSGi half of a transport component: activation creates the transport and only then
 * registers it as an {@link IscsiTransport} service with its name property; {@link #close()}
 * (deactivation) runs the transport's leaving, whose last step unregisters.
 *
 * <p>The service is registered through the bundle context rather than by
 * {@code @Component(service = ...)}, because Declarative Services would unregister such a
 * service before {@code @Deactivate} runs, and leaving puts the unregistration last. A
 * transport's component is therefore {@code @Component(service = {}, immediate = true)}, makes
 * one of these in its {@code @Activate} constructor and closes it in {@code @Deactivate}.
 */
public final class TransportRegistration implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TransportRegistration.class.getName());

    private final AtomicReference<ServiceRegistration<IscsiTransport>> registration = new AtomicReference<>();
    private final IscsiTransport transport;
    private final String displayName;

    /**
     * @param create makes the transport, given the leave action it must run last (the
     *               unregistration); for example {@code unregister -> new TcpTransport(options, unregister)}
     */
    public TransportRegistration(BundleContext context, String displayName, Function<Runnable, IscsiTransport> create) {
        Objects.requireNonNull(context, "context");
        this.displayName = Objects.requireNonNull(displayName, "displayName");
        this.transport = Objects.requireNonNull(create.apply(this::unregister), "the transport created");
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(IscsiTransport.NAME_PROPERTY, transport.name());
        try {
            registration.set(context.registerService(IscsiTransport.class, transport, properties));
        } catch (RuntimeException e) {
            // Module init failed after the transport was made: leave it, or its threads and RDMA
            // objects outlive the activation (Linux iSER leaked its release workqueue so).
            transport.close();
            throw e;
        }
        LOG.log(Level.INFO, displayName + " transport registered");
    }

    public IscsiTransport transport() {
        return transport;
    }

    /** Module exit: the transport's leaving, whose last step is {@link #unregister}. */
    @Override
    public void close() {
        transport.close();
    }

    private void unregister() {
        ServiceRegistration<IscsiTransport> current = registration.getAndSet(null);
        if (current == null) {
            return;
        }
        try {
            current.unregister();
            LOG.log(Level.INFO, displayName + " transport unregistered");
        } catch (IllegalStateException e) {
            // The framework already unregistered it (the bundle stopped without deactivating first).
            LOG.log(Level.WARNING, "the " + displayName + " transport service was already unregistered", e);
        }
    }
}
