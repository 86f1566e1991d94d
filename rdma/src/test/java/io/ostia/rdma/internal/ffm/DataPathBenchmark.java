package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.SendOpcode;
import io.ostia.rdma.SendWorkRequest;
import io.ostia.rdma.WorkCompletion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * The hand-bound data path (encode + ibv_post_send, ibv_poll_cq + decode) through the C
 * stand-in provider; bench/c_loop.c runs the same loop in C. Run with bench/run.sh.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class DataPathBenchmark {
    private Arena arena;
    private DataPath.Poster poster;
    private DataPath.Poller poller;
    private final SendWorkRequest request = new SendWorkRequest();
    private final WorkCompletion[] completions = new WorkCompletion[DataPath.POLL_BATCH];
    private long wrId;

    @Setup
    public void setUp() throws Exception {
        arena = Arena.ofShared();
        FakeVerbs fake = new FakeVerbs(CToolchain.buildFakeVerbs(), arena);
        poster = new DataPath.Poster(fake.qp(), arena);
        poller = new DataPath.Poller(fake.cq(), arena);
        for (int i = 0; i < completions.length; i++) {
            completions[i] = new WorkCompletion();
        }
        request.opcode(SendOpcode.SEND).signaled(true).immediateData(7).remote(0x10000, 0x42);
        request.scatterGather().add(0x200000L, 4096, 0x1234);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public long postSendAndPoll() {
        request.wrId(++wrId);
        int rc = poster.postSend(request);
        if (rc != 0) {
            throw new IllegalStateException("ibv_post_send returned " + rc);
        }
        int n = poller.poll(completions, 0);
        if (n != 1 || completions[0].wrId() != wrId) {
            throw new IllegalStateException("expected the completion of " + wrId + ", polled " + n);
        }
        return completions[0].wrId();
    }
}
