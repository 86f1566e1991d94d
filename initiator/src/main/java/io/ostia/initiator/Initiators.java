package io.ostia.initiator;

import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.internal.IscsiInitiator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Builds an initiator outside OSGi. Close it to log every session out and stop its thread;
 * closing does not close the transports, which belong to the caller (or to ServiceLoader's
 * providers, which {@link #create()} closes with the initiator).
 */
@aQute.bnd.annotation.spi.ServiceConsumer(value = IscsiTransport.class, resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class Initiators {

    private Initiators() {
    }

    /** An initiator with one of each transport {@link ServiceLoader} finds on the module or class path. */
    public static ClosableInitiator create() {
        return create(InitiatorSettings.defaults());
    }

    /** As {@link #create()}, with the given settings (the same ones OSGi takes from Configuration Admin). */
    public static ClosableInitiator create(InitiatorSettings settings) {
        List<IscsiTransport> found = ServiceLoader.load(IscsiTransport.class, Initiators.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList();
        return create(found, true, settings);
    }

    /** An initiator over the given transports, in that order of arrival; they stay the caller's. */
    public static ClosableInitiator create(List<IscsiTransport> transports) {
        return create(transports, InitiatorSettings.defaults());
    }

    /** As {@link #create(List)}, with the given settings. */
    public static ClosableInitiator create(List<IscsiTransport> transports, InitiatorSettings settings) {
        return create(transports, false, settings);
    }

    private static ClosableInitiator create(List<IscsiTransport> transports, boolean ownsTransports,
                                            InitiatorSettings settings) {
        IscsiInitiator initiator = new IscsiInitiator(ownsTransports ? transports : List.of(), settings);
        transports.forEach(initiator::addTransport);
        return initiator;
    }
}
