package io.ostia.rdma.loopback;

import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.RdmaProvider;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.loopback.Fabric;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Set;

/**
 * An in-JVM RDMA fabric (the {@code loopback} provider). Its devices carry IP addresses; ids
 * resolve a destination to the device owning that address, and connect to ids listening there.
 * Data moves by copy between registered regions when a work request is posted, with the
 * verbs rules: rkey and bounds checks, receiver-not-ready, flush on error.
 *
 * <p>The fault-injection methods are for tests; all are safe to call from any thread.
 */
public interface LoopbackFabric extends RdmaProvider, AutoCloseable {
    /** Name of the device every new fabric starts with, at 127.0.0.1 and ::1. */
    String DEFAULT_DEVICE = "lo0";

    /** A new, independent fabric with the {@link #DEFAULT_DEVICE}. */
    static LoopbackFabric create() {
        return new Fabric(false);
    }

    /** The JVM-wide fabric that {@code RdmaProviders.byName("loopback")} returns; never closed. */
    static LoopbackFabric shared() {
        return Fabric.shared();
    }

    /**
     * Adds a device owning the given addresses.
     *
     * @throws IllegalArgumentException if the name or an address is already taken
     */
    void addDevice(String name, InetAddress... addresses);

    /**
     * Removes a device as hot-unplug (and rxe's {@code rdma link delete}) does: every queue pair
     * on it goes to error, its connected peers on other devices get DISCONNECTED, and every id on
     * it, listeners too, gets DEVICE_REMOVAL. Its objects stay open until their owners close
     * them; new objects cannot be created on it (RdmaException), and binding to one of its
     * addresses fails as rdma_cm's does (NativeCallException, ENODEV).
     *
     * @throws IllegalArgumentException if there is no such device
     */
    void removeDevice(String name);

    /**
     * Breaks a connection as a link failure does: both queue pairs go to error and both ids get
     * DISCONNECTED, then TIMEWAIT_EXIT.
     *
     * @throws IllegalStateException if the id is not connected
     */
    void dropConnection(CmId id);

    /** While set, connects to this address end with UNREACHABLE instead of reaching a listener. */
    void setUnreachable(InetAddress address, boolean unreachable);

    /** Delays every CM event produced from now on by this much (zero for none). */
    void setCmEventDelay(Duration delay);

    /** Holds every CM event produced from now on until {@link #releaseCmEvents}. */
    void holdCmEvents();

    /**
     * Stops holding and delivers the held events, in production order or reversed.
     *
     * @return how many events were released
     */
    int releaseCmEvents(boolean reversed);

    /** CM events of these types are dropped and never delivered (empty set to stop). */
    void discardCmEvents(Set<CmEventType> types);

    /**
     * Holds the work completions {@code match} selects, from now on, until
     * {@link #releaseCompletions}: they stay out of their completion queue (and raise no
     * notification) while later ones go in.
     */
    void holdCompletions(WorkMatch match);

    /**
     * Stops holding and delivers the held completions to their queues, in production order or
     * reversed (a reorder).
     *
     * @return how many completions were released
     */
    int releaseCompletions(boolean reversed);

    /**
     * Delays the work completions {@code match} selects, from now on, by this much: later ones
     * overtake them. A delayed completion is delivered by the next poll or notification wait on
     * any completion queue of the fabric once it is due.
     */
    void delayCompletions(WorkMatch match, Duration delay);

    /** Drops the work completions {@code match} selects, from now on: they are never delivered. */
    void dropCompletions(WorkMatch match);

    /**
     * Fails the work requests {@code match} selects, counted as they are posted from now on: each
     * completes with {@code status} when it would execute, and its queue pair goes to error as a
     * failed request takes it there. A failed receive is found when a message arrives for it;
     * the sender of that message then sees {@link WorkCompletionStatus#REMOTE_OPERATION_ERROR}.
     *
     * @throws IllegalArgumentException if the status is {@link WorkCompletionStatus#SUCCESS}
     */
    void failWorkRequests(WorkMatch match, WorkCompletionStatus status);

    /**
     * Ends every completion fault set so far; completions already held or delayed stay so until
     * released or due.
     */
    void clearCompletionFaults();

    /**
     * Closes the fabric: fails with {@link IllegalStateException} naming what is open unless
     * every object was closed. Not allowed on the {@link #shared()} fabric.
     */
    @Override
    void close();
}
