package io.ostia.initiator.internal;

import io.ostia.api.Initiator;
import io.ostia.api.spi.IscsiTransport;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The initiator as a Declarative Services component. Transports come and go through a dynamic,
 * multiple reference; a session whose transport leaves is told by the transport itself (before
 * its service goes) and moves to another one; one whose transport's service goes without that
 * notice is moved at unbind; a transport that appears draws the sessions whose failback policy
 * prefers it. The transports belong to their bundles, so closing the component closes none of them.
 */
@Component(service = Initiator.class)
public final class InitiatorComponent extends IscsiInitiator {

    @Activate
    public InitiatorComponent() {
        super(List.of());
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindTransport(IscsiTransport transport) {
        addTransport(transport);
    }

    void unbindTransport(IscsiTransport transport) {
        removeTransport(transport);
    }

    /** Logs every session out and stops the timer thread: what the constructor started. */
    @Deactivate
    void deactivate() {
        close();
    }
}
