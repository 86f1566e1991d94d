package io.ostia.initiator.internal;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.InitiatorSettings;
import io.ostia.api.FailbackPolicy;
import io.ostia.api.IscsiException;
import io.ostia.api.LoginException;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.TransportException;
import io.ostia.api.spi.IscsiTransport;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The initiator: picks transports, logs sessions in, runs discovery. Owns one timer thread shared
 * by its sessions' sweepers; {@link #close()} logs every session out and stops it.
 */
public class IscsiInitiator implements ClosableInitiator {

    static final System.Logger LOG = System.getLogger(IscsiInitiator.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    private final TransportRegistry transports = new TransportRegistry();
    private final ScheduledExecutorService timer;
    private final Set<IscsiSession> sessions = ConcurrentHashMap.newKeySet();
    private final List<IscsiTransport> owned;
    /** Read by every {@link #options()} and whenever a transport appears; replaced whole by {@link #reconfigure}. */
    private volatile InitiatorSettings settings;

    /** @param owned transports this initiator closes when it closes (those it loaded itself) */
    public IscsiInitiator(List<IscsiTransport> owned) {
        this(owned, InitiatorSettings.defaults());
    }

    /** @param owned transports this initiator closes when it closes (those it loaded itself) */
    public IscsiInitiator(List<IscsiTransport> owned, InitiatorSettings settings) {
        this.owned = List.copyOf(owned);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ostia-initiator-timer");
            t.setDaemon(true);
            return t;
        });
    }

    public InitiatorSettings settings() {
        return settings;
    }

    /**
     * Replaces the settings without touching a running session: each keeps the options it logged
     * in with (its initiator name is part of its I_T nexus, and its failback policy is one of
     * them), and later logins start from the new ones.
     */
    public void reconfigure(InitiatorSettings next) {
        InitiatorSettings previous = settings;
        settings = Objects.requireNonNull(next, "settings");
        if (!previous.equals(next)) {
            LOG.log(System.Logger.Level.INFO, () -> "initiator settings now " + next + " (were " + previous + "); "
                    + sessions.size() + " running session(s) keep their options");
        }
    }

    @Override
    public SessionOptions.Builder options() {
        return settings.applyTo(SessionOptions.builder());
    }

    /** A transport appeared: new logins may use it, and sessions whose failback policy prefers it move to it. */
    @Override
    public void addTransport(IscsiTransport transport) {
        transports.add(transport);
        for (IscsiSession s : sessions) {
            if (s.options.failback() == FailbackPolicy.PREFERRED) {
                s.recovery.transportArrived(transport);
            }
        }
    }

    /**
     * A transport left the registry. One that announced it was leaving has moved its sessions
     * already; one that did not (its service went without notice) has them moved now.
     */
    @Override
    public void removeTransport(IscsiTransport transport) {
        transports.remove(transport);
        for (IscsiSession s : sessions) {
            s.recovery.transportVanished(transport);
        }
    }

    @Override
    public List<Session> sessions() {
        return sessions.stream().filter(Session::isOpen).map(s -> (Session) s).toList();
    }

    @Override
    public List<String> transports() {
        return transports.names();
    }

    @Override
    public Session login(SessionOptions requested) throws IscsiException {
        SessionOptions options = settings.fillIn(requested);
        options.targetName().orElseThrow(() -> new IllegalArgumentException(
                "a normal session needs a target name; use discover() to list targets"));
        long isid = newIsid();
        LoginResult first = connect(options, isid, Set.of(), false);
        IscsiSession session = new IscsiSession(options, (o, i, excluded, limit) -> connect(o, i, excluded, false, limit),
                transports, isid, first, timer, sessions::remove);
        sessions.add(session);
        return session;
    }

    @Override
    public List<DiscoveredTarget> discover(SessionOptions requested) throws IscsiException {
        SessionOptions options = settings.fillIn(requested);
        LoginResult login = connect(options, newIsid(), Set.of(), true);
        return Discovery.sendTargets(login, options);
    }

    /**
     * Logs in over the first transport of the options' preference that is registered and
     * connects. A target's refusal (LoginException) ends the attempt at once: another transport
     * would hear the same answer.
     */
    LoginResult connect(SessionOptions options, long isid, Set<String> excluded, boolean discovery) throws IscsiException {
        return connect(options, isid, excluded, discovery, options.loginTimeout());
    }

    /** The same, each login attempt within {@code limit} (see {@link Connector}). */
    LoginResult connect(SessionOptions options, long isid, Set<String> excluded, boolean discovery,
                        java.time.Duration limit) throws IscsiException {
        List<String> tried = new ArrayList<>();
        IscsiException last = null;
        for (String name : options.transports()) {
            if (excluded.contains(name)) {
                continue;
            }
            Optional<IscsiTransport> transport = transports.find(name);
            if (transport.isEmpty()) {
                tried.add(name + " (not available)");
                continue;
            }
            FlightEvents.Login event = new FlightEvents.Login();
            event.begin();
            try {
                LoginResult result = LoginProcess.login(transport.get(), options, isid, discovery, limit);
                commit(event, options, isid, name, discovery, "logged in");
                return result;
            } catch (LoginException e) {
                commit(event, options, isid, name, discovery, "refused: " + e.getMessage());
                throw e;
            } catch (IscsiException e) {
                commit(event, options, isid, name, discovery, "failed: " + e.getMessage());
                tried.add(name + " (" + e.getMessage() + ")");
                last = e;
            }
        }
        throw new TransportException("no transport could reach " + options.host() + ":" + options.port()
                + "; tried " + (tried.isEmpty() ? "none: all of " + options.transports() + " are excluded" : String.join(", ", tried))
                + " (available: " + transports.names() + ")", last);
    }

    private static void commit(FlightEvents.Login event, SessionOptions options, long isid, String transport,
                               boolean discovery, String outcome) {
        if (event.end(options.targetName().orElse(options.host() + ":" + options.port()), isid, outcome)) {
            event.transport = transport;
            event.discovery = discovery;
            event.commit();
        }
    }

    /** A random ISID (RFC 7143 11.12.5, type 0b10 "random"): 0x80, 24 random bits, 16-bit qualifier 0. */
    private static long newIsid() {
        return 0x80L << 40 | (long) RANDOM.nextInt(1 << 24) << 16;
    }

    @Override
    public void close() {
        for (IscsiSession s : List.copyOf(sessions)) {
            try {
                s.close();
            } catch (IscsiException e) {
                LOG.log(System.Logger.Level.WARNING, () -> "closing " + s + ": " + e.getMessage());
            }
        }
        timer.shutdownNow();
        for (IscsiTransport t : owned) {
            transports.remove(t);
            t.close();
        }
    }
}
