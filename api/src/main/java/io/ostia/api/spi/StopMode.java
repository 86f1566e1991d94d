package io.ostia.api.spi;

/** Why a connection stops (Linux {@code STOP_CONN_TERM}, {@code SUSPEND}, {@code RECOVER}). */
public enum StopMode {
    /** The session is ending: in-flight tasks fail. */
    TERMINATE,
    /**
     * Pause: no more sends, and tasks stay with the session layer for a later connection. The
     * transport releases the transport connection as for RECOVER (Linux's iscsi_tcp closes the
     * socket for every stop mode); carrying on needs a new endpoint.
     */
    SUSPEND,
    /** The connection failed or is being replaced: in-flight tasks are requeued on the next one. */
    RECOVER
}
