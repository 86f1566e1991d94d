package io.ostia.api;

import io.ostia.api.text.DiscoveredTarget;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The iSCSI initiator: logs sessions into targets and discovers them.
 *
 * <p>In OSGi it is a service published by the {@code io.ostia.initiator} bundle; on the module
 * or class path, {@code io.ostia.initiator.Initiators.create()} builds one that finds
 * transports through {@link java.util.ServiceLoader}. Every method is thread-safe, and every wait
 * is bounded by the timeouts of the {@link SessionOptions} given.
 */
@ProviderType
public interface Initiator {

    /**
     * Logs a normal session into {@code options.target()} over the first transport of
     * {@code options.transports()} that is available and connects. What the options leave at
     * SessionOptions' defaults (see {@link SessionOptions#explicitlySet()}) comes from this
     * initiator's configured settings, as with {@link #options()}; what they set wins.
     *
     * @throws LoginException          the target refused the login or negotiation failed
     * @throws AuthenticationException CHAP failed in either direction
     * @throws TransportException      no listed transport is available or none could connect
     * @throws IscsiTimeoutException   the login did not finish within the login timeout
     */
    Session login(SessionOptions options) throws IscsiException;

    /**
     * Runs a discovery session (SendTargets=All) against the portal of {@code options} and
     * returns what the target reports. The options' target name is ignored.
     */
    List<DiscoveredTarget> discover(SessionOptions options) throws IscsiException;

    /**
     * A builder for a login's options that starts from this initiator's configured defaults
     * (initiator name, transport preference, login, NOP and replacement timeouts); the portal and
     * target are still to set. Changing the initiator's configuration changes what later calls
     * return, never the options of a session already logged in.
     */
    default SessionOptions.Builder options() {
        return SessionOptions.builder();
    }

    /** The sessions logged in now (open, recovering or moving), in no particular order. */
    List<Session> sessions();

    /** Names of the transports available now, in the order the initiator prefers them. */
    List<String> transports();
}
