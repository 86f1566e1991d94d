package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.CmEvent;
import io.ostia.rdma.CmEventChannel;
import io.ostia.rdma.CmEventHandler;
import io.ostia.rdma.CmEventType;
import io.ostia.rdma.CmId;
import io.ostia.rdma.internal.CmEventDelivery;
import io.ostia.rdma.internal.OpenObjects;
import io.ostia.rdma.internal.ffm.gen.Verbs;
import io.ostia.rdma.internal.ffm.gen.rdma_cm_event;
import io.ostia.rdma.internal.ffm.gen.rdma_conn_param;
import io.ostia.rdma.internal.ffm.gen.rdma_event_channel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Owns one {@code rdma_event_channel} and the thread that reads it: poll(2) with a short
 * timeout (so close is noticed), {@code rdma_get_cm_event}, copy, {@code rdma_ack_cm_event},
 * then the handler. Acking before the handler runs lets the handler destroy the id.
 *
 * <p>The channel's descriptor is non-blocking: destroying an id drops its events not yet
 * fetched (the kernel's ucma does), so an event that made poll(2) report readable can be gone
 * when {@code rdma_get_cm_event} runs, which would then block the thread past close.
 */
final class NativeEventChannel implements CmEventChannel {
    private static final System.Logger LOG = System.getLogger(NativeEventChannel.class.getName());
    private static final int WAIT_SLICE_MILLIS = 100;

    final NativeProvider provider;
    final Map<Long, NativeCmId> ids = new ConcurrentHashMap<>();
    private final CmEventHandler handler;
    private final MemorySegment channel;
    private final Calls calls;
    private final long serial;
    private final Thread thread;
    private volatile boolean stopping;
    private boolean closed;

    NativeEventChannel(NativeProvider provider, CmEventHandler handler) {
        this.provider = provider;
        this.handler = handler;
        this.calls = provider.calls();
        this.channel = NativeAccess.struct(calls.rdmaCreateEventChannel.invokePointer(), rdma_event_channel.layout());
        try {
            NativeAccess.setNonBlocking(rdma_event_channel.fd(channel));
        } catch (RuntimeException e) {
            calls.rdmaDestroyEventChannel.invokeUnchecked(channel); // nobody else owns it yet
            throw e;
        }
        this.serial = provider.openObjects.nextSerial();
        this.thread = Thread.ofPlatform().daemon().name("ostia-rdma-native-cm-" + serial).unstarted(this::run);
        provider.openObjects.opened(this);
        thread.start();
    }

    MemorySegment channel() {
        return channel;
    }

    @Override
    public synchronized CmId createId() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment idOut = call.allocate(ADDRESS);
            calls.rdmaCreateId.invokeInt(channel, idOut, MemorySegment.NULL, Verbs.RDMA_PS_TCP());
            return register(idOut.get(ADDRESS, 0));
        }
    }

    private NativeCmId register(MemorySegment idPointer) {
        NativeCmId id = new NativeCmId(this, idPointer);
        ids.put(idPointer.address(), id);
        return id;
    }

    @Override
    public String threadName() {
        return thread.getName();
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment eventOut = arena.allocate(ADDRESS);
            NativeAccess.ReadableWait readable = new NativeAccess.ReadableWait(rdma_event_channel.fd(channel), arena);
            while (!stopping) {
                if (readable.await(WAIT_SLICE_MILLIS) && !stopping
                        && calls.rdmaGetCmEvent.invokeIntUnlessWouldBlock(channel, eventOut)) {
                    CmEvent event = copyAndAck(eventOut.get(ADDRESS, 0));
                    if (event != null) {
                        dispatch(event);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, this + ": event thread failed; no more events will be delivered", e);
        }
    }

    /**
     * Hands one event on. A failure here concerns that event's id only: it is logged and the
     * thread goes on delivering the others.
     */
    private void dispatch(CmEvent event) {
        try {
            if (event.type() == CmEventType.CONNECT_REQUEST && (event.listenId() == null || event.listenId().isClosed())) {
                // Nobody will own the new id: refuse the connection and drop it.
                try {
                    event.id().reject(null);
                } finally {
                    event.id().close();
                }
            } else if (!event.id().isClosed()) {
                CmEventDelivery.deliver(handler, event);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, this + ": handling " + event.type() + " for " + event.id() + " failed", e);
        }
    }

    private CmEvent copyAndAck(MemorySegment eventPointer) {
        MemorySegment event = NativeAccess.struct(eventPointer, rdma_cm_event.layout());
        CmEvent copy;
        try {
            int code = rdma_cm_event.event(event);
            if (code < 0 || code >= CmEventType.values().length) {
                LOG.log(System.Logger.Level.WARNING, this + ": ignoring rdma_cm event of unknown type " + code);
                return null;
            }
            CmEventType type = CmEventType.fromCode(code);
            int status = rdma_cm_event.status(event);
            MemorySegment conn = rdma_cm_event.param.conn(rdma_cm_event.param(event));
            byte[] privateData = new byte[0];
            int length = Byte.toUnsignedInt(rdma_conn_param.private_data_len(conn));
            MemorySegment data = rdma_conn_param.private_data(conn);
            if (length > 0 && !data.equals(MemorySegment.NULL)
                    && (type == CmEventType.CONNECT_REQUEST || type == CmEventType.ESTABLISHED || type == CmEventType.REJECTED)) {
                privateData = NativeAccess.struct(data, length).toArray(JAVA_BYTE);
            }
            MemorySegment idPointer = rdma_cm_event.id(event);
            NativeCmId listener = null;
            NativeCmId id;
            if (type == CmEventType.CONNECT_REQUEST) {
                listener = ids.get(rdma_cm_event.listen_id(event).address());
                id = register(idPointer);
            } else {
                id = ids.get(idPointer.address());
            }
            if (id == null) {
                // The id was destroyed after the event was queued; nobody is left to tell.
                return null;
            }
            id.observe(type);
            copy = new CmEvent(type, id, listener, status, privateData);
        } finally {
            calls.rdmaAckCmEvent.invokeInt(eventPointer);
        }
        return copy;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            OpenObjects.requireNoneOpen(this, ids.values());
            if (Thread.currentThread() == thread) {
                throw new IllegalStateException("an event channel cannot be closed from its own handler thread " + thread.getName());
            }
            closed = true;
        }
        stopping = true;
        CmEventDelivery.awaitStop(thread);
        calls.rdmaDestroyEventChannel.invokeUnchecked(channel);
        provider.openObjects.closed(this);
    }

    @Override
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "native event channel #" + serial;
    }
}
