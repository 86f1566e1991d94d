package io.ostia.initiator;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.Initiator;
import io.ostia.api.IscsiException;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.internal.IscsiInitiator;
import java.util.List;

/** An {@link Initiator} built by {@link Initiators}, which the caller closes when done. */
public final class ClosableInitiator implements Initiator, AutoCloseable {
    private final IscsiInitiator initiator;
    private final List<IscsiTransport> owned;

    ClosableInitiator(IscsiInitiator initiator, List<IscsiTransport> owned) {
        this.initiator = initiator;
        this.owned = owned;
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

    /** Logs out every session, stops the initiator's thread, then closes the transports it loaded. */
    @Override
    public void close() {
        initiator.close();
        for (IscsiTransport t : owned) {
            initiator.removeTransport(t);
            t.close();
        }
    }
}
