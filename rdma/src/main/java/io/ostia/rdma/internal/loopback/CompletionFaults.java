package io.ostia.rdma.internal.loopback;

import io.ostia.rdma.WorkCompletionOpcode;
import io.ostia.rdma.WorkCompletionStatus;
import io.ostia.rdma.internal.loopback.LoopbackCompletionQueue.Completion;
import io.ostia.rdma.loopback.WorkMatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The work-completion faults of one fabric: completions held, delayed or dropped on their way to
 * their queue, and work requests failed with a chosen status. Every method runs under the fabric
 * lock, but for the flags a lock-free path reads. With no fault set, {@link #intercepts()} and
 * {@link #failing()} are false and the data path does nothing more than test them.
 */
final class CompletionFaults {
    private enum Action { HOLD, DELAY, DROP, FAIL }

    /** One fault and how many of the work it selects it has seen. */
    private static final class Rule {
        final WorkMatch match;
        final Action action;
        final long delayNanos;
        final WorkCompletionStatus status;
        private long seen;

        Rule(WorkMatch match, Action action, long delayNanos, WorkCompletionStatus status) {
            this.match = match;
            this.action = action;
            this.delayNanos = delayNanos;
            this.status = status;
        }

        /** Counts one piece of work; whether the fault applies to it. */
        boolean applies(int qpNumber, WorkCompletionOpcode kind) {
            if (!match.selects(qpNumber, kind)) {
                return false;
            }
            long n = seen++;
            return n >= match.skip() && n - match.skip() < match.count();
        }

        boolean spent() {
            return seen - match.skip() >= match.count();
        }
    }

    /** A completion kept from its queue. */
    private record Parked(LoopbackCompletionQueue queue, Completion completion, long dueNanos) {
    }

    private final List<Rule> completionRules = new ArrayList<>();
    private final List<Rule> failureRules = new ArrayList<>();
    private final List<Parked> held = new ArrayList<>();
    private final List<Parked> delayed = new ArrayList<>();
    /** Whether {@link #delayed} holds any: read without the fabric lock by an empty queue's poll. */
    private volatile boolean delaying;
    /** Whether {@link #failureRules} holds any: read without the fabric lock by a receive's post. */
    private volatile boolean failing;

    void hold(WorkMatch match) {
        completionRules.add(new Rule(match, Action.HOLD, 0, null));
    }

    void delay(WorkMatch match, long nanos) {
        completionRules.add(new Rule(match, Action.DELAY, nanos, null));
    }

    void drop(WorkMatch match) {
        completionRules.add(new Rule(match, Action.DROP, 0, null));
    }

    void fail(WorkMatch match, WorkCompletionStatus status) {
        failureRules.add(new Rule(match, Action.FAIL, 0, status));
        failing = true;
    }

    /** Ends every fault; completions held or delayed already stay so until released or due. */
    void clear() {
        completionRules.clear();
        failureRules.clear();
        failing = false;
    }

    /** Whether a completion may be kept from its queue (a rule is set, or one is delayed). */
    boolean intercepts() {
        return !completionRules.isEmpty() || !delayed.isEmpty();
    }

    /** Whether a newly posted work request may be failed (no lock needed). */
    boolean failing() {
        return failing;
    }

    /**
     * Counts a newly posted work request of this queue pair and kind against the failure rules.
     *
     * @return the status it must complete with instead of executing, or null to execute it
     */
    WorkCompletionStatus failure(int qpNumber, WorkCompletionOpcode kind) {
        WorkCompletionStatus status = null;
        for (Rule rule : failureRules) {
            if (rule.applies(qpNumber, kind) && status == null) {
                status = rule.status;
            }
        }
        failureRules.removeIf(Rule::spent);
        failing = !failureRules.isEmpty();
        return status;
    }

    /**
     * Offers a completion on its way to {@code queue} to the rules (the first that applies takes
     * it) and delivers delayed completions that are due.
     *
     * @return true if a rule took it: held, delayed or dropped
     */
    boolean intercept(LoopbackCompletionQueue queue, Completion c) {
        deliverDue();
        Rule taker = null;
        for (Rule rule : completionRules) {
            if (rule.applies(c.queuePairNumber(), c.kind()) && taker == null) {
                taker = rule;
            }
        }
        completionRules.removeIf(Rule::spent);
        if (taker == null) {
            return false;
        }
        switch (taker.action) {
            case HOLD -> held.add(new Parked(queue, c, 0));
            case DELAY -> {
                delayed.add(new Parked(queue, c, System.nanoTime() + taker.delayNanos));
                delaying = true;
                queue.delayed();
            }
            case DROP -> { }
            case FAIL -> throw new IllegalStateException("failure rules apply to work requests, not completions");
        }
        return true;
    }

    /** Delivers the delayed completions that are due, in the order they were produced. */
    void deliverDue() {
        if (delayed.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        List<Parked> due = new ArrayList<>();
        for (Iterator<Parked> it = delayed.iterator(); it.hasNext(); ) {
            Parked p = it.next();
            if (now - p.dueNanos >= 0) {
                due.add(p);
                it.remove();
            }
        }
        delaying = !delayed.isEmpty();
        for (Parked p : due) {
            p.queue.deliver(p.completion);
        }
    }

    /** Whether a delayed completion waits to fall due (no lock needed). */
    boolean delaying() {
        return delaying;
    }

    /** Nanoseconds until the next delayed completion is due, capped at {@code max}. */
    long nanosToNextDue(long max) {
        if (delayed.isEmpty()) {
            return max;
        }
        long now = System.nanoTime();
        long next = max;
        for (Parked p : delayed) {
            next = Math.min(next, Math.max(0, p.dueNanos - now));
        }
        return next;
    }

    /** Ends the hold rules and delivers the held completions, in production order or reversed. */
    int release(boolean reversed) {
        completionRules.removeIf(rule -> rule.action == Action.HOLD);
        List<Parked> release = new ArrayList<>(held);
        held.clear();
        if (reversed) {
            Collections.reverse(release);
        }
        for (Parked p : release) {
            p.queue.deliver(p.completion);
        }
        return release.size();
    }
}
