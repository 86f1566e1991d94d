package io.ostia.initiator.internal;

import io.ostia.api.Initiator;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.text.TargetAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The initiator's Gogo shell commands ({@code ostia:discover}, {@code login}, {@code sessions},
 * {@code swap}, {@code logout}). Gogo finds them by the {@code osgi.command.*} service
 * properties and calls these public methods by name with the typed words, so there is no
 * dependency on Gogo. Each returns the text the shell prints; a bad argument throws
 * {@link IllegalArgumentException} naming it, which Gogo shows as the command's error.
 */
@Component(service = ShellCommands.class, property = {
        "osgi.command.scope=ostia",
        "osgi.command.function=discover",
        "osgi.command.function=login",
        "osgi.command.function=sessions",
        "osgi.command.function=swap",
        "osgi.command.function=logout"})
public final class ShellCommands {

    private static final HexFormat HEX = HexFormat.of();

    private final IscsiInitiator initiator;

    /** The initiator of this bundle: the commands read its sessions' state, which the API does not show. */
    @Activate
    public ShellCommands(@Reference(service = Initiator.class, target = "(component.name=io.ostia.initiator.internal.InitiatorComponent)")
                         Initiator initiator) {
        this.initiator = (IscsiInitiator) initiator;
    }

    /** {@code discover iscsi://host[:port]} or {@code discover host[:port]}: the targets a portal reports. */
    public String discover(String portal) throws IscsiException {
        IscsiUrl url = url(portal.contains("://") ? portal : "iscsi://" + portal);
        List<DiscoveredTarget> targets = initiator.discover(options(url).build());
        StringBuilder out = new StringBuilder();
        for (DiscoveredTarget t : targets) {
            out.append(t.name());
            for (TargetAddress a : t.addresses()) {
                out.append("  ").append(a.host()).append(':').append(a.port()).append(',').append(a.portalGroupTag());
            }
            out.append('\n');
        }
        return targets.isEmpty() ? "no targets at " + url.host() + ":" + url.port() : out.toString().stripTrailing();
    }

    /** {@code login iscsi://host[:port]/target-iqn}: logs a session in with the initiator's configured defaults. */
    public String login(String iscsiUrl) throws IscsiException {
        IscsiUrl url = url(iscsiUrl);
        url.requireTarget();
        Session s = initiator.login(options(url).build());
        return "session " + id(s) + " on " + s.transport() + " to " + s.targetName();
    }

    /** {@code sessions}: one line per session: ISID, target, transport, state, commands in flight and waiting. */
    public String sessions() {
        List<Session> all = initiator.sessions();
        if (all.isEmpty()) {
            return "no sessions";
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-12s %-9s %-12s %9s %7s  %s%n",
                "ISID", "TRANSPORT", "STATE", "IN-FLIGHT", "WAITING", "TARGET"));
        for (Session s : all) {
            IscsiSession session = (IscsiSession) s;
            out.append(String.format(Locale.ROOT, "%-12s %-9s %-12s %9d %7d  %s%n", id(s), s.transport(), session.state,
                    session.queue.tasks.size(), session.queue.waiting(), s.targetName()));
        }
        return out.toString().stripTrailing();
    }

    /** {@code swap <isid> <transport>}: moves a session to another transport under its load; prints the I/O pause. */
    public String swap(String isid, String transport) throws IscsiException {
        Session s = find(isid);
        String from = s.transport();
        Duration pause = s.switchTransport(transport);
        return String.format(Locale.ROOT, "session %s moved from %s to %s, I/O paused %.1f ms", id(s), from, s.transport(),
                pause.toNanos() / 1e6);
    }

    /** {@code logout <isid>}: logs the session out. */
    public String logout(String isid) throws IscsiException {
        Session s = find(isid);
        s.close();
        return "session " + id(s) + " logged out";
    }

    private SessionOptions.Builder options(IscsiUrl url) {
        SessionOptions.Builder b = initiator.options().portal(url.host(), url.port());
        url.targetName().ifPresent(b::targetName);
        url.chap().ifPresent(b::chap);
        return b;
    }

    private Session find(String isid) {
        String wanted = isid.strip().toLowerCase(Locale.ROOT);
        List<Session> all = initiator.sessions();
        for (Session s : all) {
            if (id(s).equals(wanted)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no session with ISID " + isid + "; the sessions are "
                + all.stream().map(ShellCommands::id).toList());
    }

    /** The ISID as 12 hex digits: what {@code sessions} prints and {@code swap}/{@code logout} take. */
    static String id(Session s) {
        return HEX.toHexDigits(s.isid()).substring(4);
    }

    /** IscsiUrl's own errors name what is wrong without echoing a password. */
    private static IscsiUrl url(String text) {
        return IscsiUrl.parse(text);
    }
}
