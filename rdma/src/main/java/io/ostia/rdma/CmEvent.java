package io.ostia.rdma;

import java.util.Arrays;
import java.util.Objects;

/**
 * One connection-manager event ({@code struct rdma_cm_event}), copied out of the provider: it
 * stays valid after the handler returns.
 *
 * @param type what happened
 * @param id the id it happened to; for {@link CmEventType#CONNECT_REQUEST} a new id, owned by the
 *     handler, that must be accepted, rejected or closed
 * @param listenId for {@link CmEventType#CONNECT_REQUEST}, the listening id; otherwise null
 * @param status 0, or the provider's status (negative errno, or the reject reason for
 *     {@link CmEventType#REJECTED})
 */
public record CmEvent(CmEventType type, CmId id, CmId listenId, int status, byte[] privateData) {
    public CmEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        privateData = privateData == null ? new byte[0] : privateData.clone();
    }

    /**
     * Private data from the peer's connect, accept or reject, as the connection manager delivers
     * it; empty if none. A copy. On InfiniBand and RoCE rdma_cm hands over the whole fixed-size
     * private-data field of the CM message: the bytes the peer sent, padded with zeros to
     * {@link ConnectionParameters#MAX_CONNECT_PRIVATE_DATA} (CONNECT_REQUEST),
     * {@link ConnectionParameters#MAX_ACCEPT_PRIVATE_DATA} (ESTABLISHED at the connecting side) or
     * {@link ConnectionParameters#MAX_REJECT_PRIVATE_DATA} (REJECTED); the accepting side's
     * ESTABLISHED carries none. The length sent is not delivered: a protocol that needs it must
     * carry it in its data (iSER's hello messages have a fixed layout).
     */
    @Override
    public byte[] privateData() {
        return privateData.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CmEvent e && type == e.type && id == e.id && listenId == e.listenId
                && status == e.status && Arrays.equals(privateData, e.privateData);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, System.identityHashCode(id), status, Arrays.hashCode(privateData));
    }

    @Override
    public String toString() {
        return "CmEvent[" + type + ", id=" + id + (status != 0 ? ", status=" + status : "")
                + (privateData.length > 0 ? ", privateData=" + privateData.length + " bytes" : "") + "]";
    }
}
