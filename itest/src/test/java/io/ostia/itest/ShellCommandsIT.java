package io.ostia.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.ostia.api.Initiator;
import io.ostia.api.TransportException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The {@code ostia:*} Gogo commands against tgtd: called as the service's methods (what Gogo
 * does), and typed into Gogo's runtime through its {@link CommandProcessor}.
 */
@RunWith(PaxExamWithTgtd.class)
@ExamReactorStrategy(PerClass.class)
public class ShellCommandsIT extends InContainerTest {
    private static final long LUN_BYTES = 16L << 20;

    @Inject
    private BundleContext context;

    @Inject
    private Initiator initiator;

    @Inject
    private CommandProcessor processor;

    @Override
    protected String[] moreBundles() {
        return new String[] {"org.apache.felix.gogo.runtime"};
    }

    @Test
    public void theServiceNamesItsScopeAndFunctions() throws Exception {
        ServiceReference<?> ref = commandsReference();
        assertEquals("ostia", ref.getProperty("osgi.command.scope"));
        List<String> functions = Arrays.asList((String[]) ref.getProperty("osgi.command.function"));
        for (String f : List.of("discover", "login", "sessions", "swap", "logout")) {
            assertTrue("osgi.command.function " + functions + " has " + f, functions.contains(f));
        }
    }

    @Test
    public void discoverLoginSessionsLogoutAsMethods() throws Exception {
        Object commands = context.getService(commandsReference());
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES)) {
            String portal = t.tgtd.host() + ":" + t.tgtd.port();
            String found = call(commands, "discover", portal);
            assertTrue(found, found.startsWith(TgtdTarget.TARGET));

            String login = call(commands, "login", "iscsi://" + portal + "/" + TgtdTarget.TARGET);
            assertTrue(login, login.matches("session [0-9a-f]{12} on tcp to " + TgtdTarget.TARGET));
            String isid = login.split(" ")[1];
            assertEquals("rows for " + isid, 1, sessionsNamed(commands, isid));
            String table = call(commands, "sessions");
            String row = table.lines().filter(l -> l.startsWith(isid)).findFirst().orElseThrow(
                    () -> new AssertionError("no row for " + isid + " in\n" + table));
            assertTrue(row, row.matches(isid + " +tcp +LOGGED_IN +\\d+ +\\d+  " + TgtdTarget.TARGET));

            String swapped = call(commands, "swap", isid, "tcp");
            assertTrue(swapped, swapped.matches("session " + isid + " moved from tcp to tcp, I/O paused \\d+\\.\\d ms"));
            TransportException noIser = expect(TransportException.class, () -> call(commands, "swap", isid, "iser"));
            assertTrue(noIser.getMessage(), noIser.getMessage().contains("iser"));
            assertTrue("the session is still up after a refused swap", call(commands, "sessions").contains(isid));

            assertEquals("session " + isid + " logged out", call(commands, "logout", isid));
            assertEquals("no sessions", call(commands, "sessions"));

            IllegalArgumentException unknown = expect(IllegalArgumentException.class,
                    () -> call(commands, "logout", "000000000000"));
            assertTrue(unknown.getMessage(), unknown.getMessage().contains("no session with ISID 000000000000"));
            IllegalArgumentException badUrl = expect(IllegalArgumentException.class,
                    () -> call(commands, "login", "http://" + portal));
            assertTrue(badUrl.getMessage(), badUrl.getMessage().contains("iscsi://"));
        } finally {
            context.ungetService(commandsReference());
        }
    }

    @Test
    public void theCommandsRunInGogo() throws Exception {
        try (TgtdTarget t = TgtdTarget.start(LUN_BYTES)) {
            String portal = t.tgtd.host() + ":" + t.tgtd.port();
            String login = gogo("ostia:login iscsi://" + portal + "/" + TgtdTarget.TARGET);
            assertTrue(login, login.startsWith("session ") && login.contains(" on tcp to " + TgtdTarget.TARGET));
            String isid = login.split(" ")[1];
            String table = gogo("sessions");
            assertTrue(table, table.lines().anyMatch(l -> l.startsWith(isid) && l.contains("LOGGED_IN")));
            assertTrue(gogo("ostia:swap " + isid + " tcp").contains("moved from tcp to tcp"));
            assertEquals("session " + isid + " logged out", gogo("ostia:logout " + isid));
            assertTrue(gogo("ostia:discover " + portal).startsWith(TgtdTarget.TARGET));
        }
    }

    private int sessionsNamed(Object commands, String isid) throws Exception {
        return (int) call(commands, "sessions").lines().filter(l -> l.startsWith(isid)).count();
    }

    /** Runs a command line in a Gogo session and returns what it printed and returned, stripped. */
    private String gogo(String line) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
             CommandSession session = processor.createSession(new ByteArrayInputStream(new byte[0]), print, print)) {
            Object result = session.execute(line);
            print.flush();
            String printed = out.toString(StandardCharsets.UTF_8);
            return (printed + (result == null ? "" : String.valueOf(result))).strip();
        }
    }

    private ServiceReference<?> commandsReference() throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences((String) null, "(osgi.command.scope=ostia)");
        assertNotNull("a service with osgi.command.scope=ostia is registered", refs);
        assertEquals("services with osgi.command.scope=ostia", 1, refs.length);
        return refs[0];
    }

    private static String call(Object target, String name, String... args) throws Exception {
        Class<?>[] types = new Class<?>[args.length];
        Arrays.fill(types, String.class);
        Method m = target.getClass().getMethod(name, types);
        try {
            return (String) m.invoke(target, (Object[]) args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    interface Call {
        void run() throws Exception;
    }

    private static <E extends Exception> E expect(Class<E> type, Call call) throws Exception {
        try {
            call.run();
        } catch (Exception e) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
            throw e;
        }
        throw new AssertionError("expected " + type.getSimpleName());
    }
}
