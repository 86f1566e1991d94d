package io.ostia.api;

/** A bounded wait ran out: login, a command, a task-management function, logout. */
public class IscsiTimeoutException extends IscsiException {
    public IscsiTimeoutException(String message) {
        super(message);
    }
}
