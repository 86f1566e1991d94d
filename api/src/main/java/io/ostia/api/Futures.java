package io.ostia.api;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** Turns Ostia's futures into blocking calls with the checked exceptions they carry. */
public final class Futures {
    private Futures() {
    }

    /**
     * Waits for {@code future}; its own timeouts bound the wait (every Ostia future completes
     * or fails within the command timeout). An interrupt cancels nothing on the wire: the
     * command still completes, and the interrupt status is kept.
     */
    public static <T> T await(CompletableFuture<T> future) throws IscsiException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IscsiException("interrupted while waiting for an iSCSI command", e);
        } catch (CancellationException e) {
            throw new IscsiException("iSCSI command was cancelled", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IscsiException iscsi) {
                throw iscsi;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IscsiException("iSCSI command failed: " + cause, cause);
        }
    }
}
