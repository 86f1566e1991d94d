package io.ostia.api;

/**
 * What a session does when a transport it prefers to the one it runs on appears (its bundle
 * starts): see {@link SessionOptions#failback()}.
 */
public enum FailbackPolicy {
    /** Stay where it is; only new logins and recoveries use the newcomer. */
    NONE,
    /** Move at once (gracefully, as {@link Session#switchTransport}) to the most preferred transport. */
    PREFERRED
}
