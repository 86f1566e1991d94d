package io.ostia.initiator.internal;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.Initiator;
import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
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
 * its service goes) and moves to another one.
 */
@Component(service = Initiator.class)
public final class InitiatorComponent implements Initiator {

    private final IscsiInitiator initiator = new IscsiInitiator();

    @Activate
    public InitiatorComponent() {
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addTransport(IscsiTransport transport) {
        initiator.addTransport(transport);
    }

    void removeTransport(IscsiTransport transport) {
        initiator.removeTransport(transport);
    }

    @Deactivate
    void deactivate() {
        initiator.close();
    }

    @Override
    public Session login(SessionOptions options) throws IscsiException {
        return initiator.login(options);
    }

    @Override
    public List<DiscoveredTarget> discover(SessionOptions options) throws IscsiException {
        return initiator.discover(options);
    }

    @Override
    public List<String> transports() {
        return initiator.transports();
    }
}
