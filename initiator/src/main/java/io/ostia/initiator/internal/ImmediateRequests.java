package io.ostia.initiator.internal;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiTimeoutException;
import io.ostia.api.TransportException;
import io.ostia.api.pdu.Pdu;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Immediate requests waiting for their answer (NOP-Out ping, task management, Logout), by ITT.
 * The asking thread registers and sends, then waits, bounded ({@link #await}); the receive
 * thread hands the answer over ({@link #answer}); recovery and the session's end fail what is
 * left ({@link #failAll}). A concurrent map is the only synchronization: no lock of the session
 * is held while waiting.
 */
final class ImmediateRequests {

    /** Builds a request for the connection it goes out on (its ExpStatSN). */
    @FunctionalInterface
    interface RequestBuilder {
        Pdu build(SessionConnection connection);
    }

    private final IscsiSession session;
    private final ConcurrentHashMap<Integer, CompletableFuture<Pdu>> requests = new ConcurrentHashMap<>();

    ImmediateRequests(IscsiSession session) {
        this.session = session;
    }

    /** Sends a request on the current connection of an open (or logging out) session. */
    void send(int itt, CompletableFuture<Pdu> answer, RequestBuilder builder) throws IscsiException {
        SessionConnection conn = session.current;
        if (conn == null || !session.isOpen() && session.state != IscsiSession.State.LOGGING_OUT) {
            throw session.closedError();
        }
        send(conn, itt, answer, builder.build(conn));
    }

    /** Registers where the answer to {@code request} goes, then sends it on {@code conn}. */
    void send(SessionConnection conn, int itt, CompletableFuture<Pdu> answer, Pdu request) throws TransportException {
        requests.put(itt, answer);
        try {
            conn.send(request);
        } catch (TransportException e) {
            requests.remove(itt);
            throw e;
        }
    }

    /** Waits for an answer within {@code timeout}; the request is forgotten however the wait ends. */
    Pdu await(CompletableFuture<Pdu> answer, Duration timeout, String what) throws IscsiException {
        try {
            return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IscsiTimeoutException(what + " to " + session.targetName + " got no answer within "
                    + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while waiting for " + what, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IscsiException iscsi) {
                throw iscsi;
            }
            throw new IscsiException(what + " failed: " + e.getCause(), e.getCause());
        } finally {
            requests.values().remove(answer);
        }
    }

    /** Hands a target's answer to whoever waits for {@code itt}; receive thread. */
    void answer(int itt, Pdu pdu) {
        CompletableFuture<Pdu> waiting = requests.remove(itt);
        if (waiting != null) {
            waiting.complete(pdu);
        } else {
            IscsiSession.LOG.log(System.Logger.Level.DEBUG,
                    () -> pdu.opcode() + " for unknown ITT " + Integer.toHexString(itt) + " ignored");
        }
    }

    /** Takes the request waiting for {@code itt} out, or null. */
    CompletableFuture<Pdu> remove(int itt) {
        return requests.remove(itt);
    }

    void failAll(IscsiException error) {
        for (Integer itt : List.copyOf(requests.keySet())) {
            CompletableFuture<Pdu> f = requests.remove(itt);
            if (f != null) {
                f.completeExceptionally(error);
            }
        }
    }
}
