package io.ostia.api.spi;

/** Why a connection stops (Linux {@code STOP_CONN_TERM}, {@code SUSPEND}, {@code RECOVER}). */
public enum StopMode {
    /** The session is ending: in-flight tasks fail. */
    TERMINATE,
    /** Pause transmission; the connection may be started again as it is. */
    SUSPEND,
    /** The connection failed or is being replaced: in-flight tasks are requeued on the next one. */
    RECOVER
}
