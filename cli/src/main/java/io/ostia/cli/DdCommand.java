package io.ostia.cli;

import io.ostia.api.BlockDevice;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.Session;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ostia dd}: copies blocks from a LUN or a file to a LUN or a file, like libiscsi's
 * iscsi-dd, with offsets and counts in blocks of the LUN, a progress line on stderr and the
 * throughput at the end.
 */
final class DdCommand implements Main.Command {

    /** One transfer moves at most this many bytes. */
    private static final int TRANSFER_BYTES = 1 << 20;

    @Override
    public String usage() {
        return """
                Usage: ostia dd --src iscsi-url|file --dst iscsi-url|file [--skip n] [--seek n] [--count n]
                                [options]
                  Copies blocks between a LUN and a file or another LUN; at least one side is a LUN,
                  whose block size counts the blocks (two LUNs must have the same block size).
                  --src, --dst   an iscsi://host[:port]/target-iqn/lun URL, or a file path
                  --skip n       blocks to skip at the start of the source (0)
                  --seek n       blocks to skip at the start of the destination (0)
                  --count n      blocks to copy (all the source has after --skip)
                  A destination file is created if missing and never cut short.
                """ + Connection.USAGE;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.FLAGS,
                Connection.union(Connection.VALUES, Set.of("src", "dst", "skip", "seek", "count")), Connection.ALIASES);
        String src = required(args, "src");
        String dst = required(args, "dst");
        long skip = blocks(args, "skip", 0);
        long seek = blocks(args, "seek", 0);
        if (!isUrl(src) && !isUrl(dst)) {
            throw new Args.UsageException("--src and --dst are both files; ostia dd copies to or from a LUN");
        }
        List<AutoCloseable> open = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); ClosableInitiator initiator = Initiators.create()) {
            try {
                End from = end(src, false, args, initiator, open);
                End to = end(dst, true, args, initiator, open);
                int blockSize = blockSize(from, to);
                long available = from.blocks(blockSize) - skip;
                if (available < 0) {
                    throw new IllegalArgumentException("--skip " + skip + " is past the end of " + src + " ("
                            + from.blocks(blockSize) + " blocks)");
                }
                long count = blocks(args, "count", available);
                if (count > available) {
                    throw new IllegalArgumentException("--count " + count + " after --skip " + skip + " is past the end of "
                            + src + " (" + from.blocks(blockSize) + " blocks)");
                }
                if (to instanceof Lun lun && seek + count > lun.device.blockCount()) {
                    throw new IllegalArgumentException("--seek " + seek + " --count " + count + " is past the end of "
                            + dst + " (" + lun.device.blockCount() + " blocks)");
                }
                copy(from, to, skip, seek, count, blockSize, arena, out, err);
                return 0;
            } finally {
                closeAll(open);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IscsiException(e.getFile() + ": no such file or folder", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IscsiException(e.getFile() + ": permission denied", e);
        } catch (IOException e) {
            throw new IscsiException(e.getMessage(), e);
        }
    }

    private static void copy(End from, End to, long skip, long seek, long count, int blockSize, Arena arena,
            PrintStream out, PrintStream err) throws IOException, IscsiException {
        int chunk = Math.max(1, TRANSFER_BYTES / blockSize);
        MemorySegment buffer = arena.allocate((long) chunk * blockSize, 4096);
        long start = System.nanoTime();
        long lastReport = start;
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(chunk, count - done);
            MemorySegment slice = buffer.asSlice(0, (long) n * blockSize);
            from.read(skip + done, slice, blockSize);
            to.write(seek + done, slice, blockSize);
            done += n;
            long now = System.nanoTime();
            if (now - lastReport >= 1_000_000_000L || done == count) {
                err.printf("\rcopied %d of %d blocks (%.1f MiB/s)", done, count, mibPerSecond(done * blockSize, now - start));
                lastReport = now;
            }
        }
        to.flush();
        long elapsed = System.nanoTime() - start;
        err.println();
        out.printf("copied %d blocks (%d bytes) in %.2f s, %.1f MiB/s%n", count, count * blockSize, elapsed / 1e9,
                mibPerSecond(count * blockSize, elapsed));
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return nanos == 0 ? 0 : bytes / (1024.0 * 1024.0) / (nanos / 1e9);
    }

    private static int blockSize(End from, End to) {
        if (from instanceof Lun a && to instanceof Lun b && a.device.blockSize() != b.device.blockSize()) {
            throw new IllegalArgumentException("the LUNs have different block sizes: " + a.device.blockSize() + " and "
                    + b.device.blockSize());
        }
        return from instanceof Lun a ? a.device.blockSize() : ((Lun) to).device.blockSize();
    }

    private static End end(String where, boolean destination, Args args, ClosableInitiator initiator,
            List<AutoCloseable> open) throws Args.UsageException, IscsiException, IOException {
        if (!isUrl(where)) {
            FileChannel channel = destination
                    ? FileChannel.open(Path.of(where), StandardOpenOption.WRITE, StandardOpenOption.CREATE)
                    : FileChannel.open(Path.of(where), StandardOpenOption.READ);
            open.add(channel);
            return new FileEnd(where, channel);
        }
        IscsiUrl url = IscsiUrl.parse(where);
        url.requireTarget();
        int lun = url.lun().orElseThrow(() -> new IllegalArgumentException("the URL names no LUN: " + url));
        Session session = initiator.login(Connection.options(args, url).build());
        open.add(session);
        return new Lun(session.open(lun));
    }

    private static boolean isUrl(String where) {
        return where.startsWith("iscsi://");
    }

    private static String required(Args args, String option) throws Args.UsageException {
        String value = args.value(option, null);
        if (value == null) {
            throw new Args.UsageException("missing --" + option);
        }
        return value;
    }

    private static long blocks(Args args, String option, long otherwise) throws Args.UsageException {
        String value = args.value(option, null);
        if (value == null) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(value);
            if (n < 0) {
                throw new Args.UsageException("--" + option + " must not be negative, got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--" + option + " needs a number of blocks, got '" + value + "'");
        }
    }

    private static void closeAll(List<AutoCloseable> open) throws IOException {
        IOException failure = null;
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IOException("closing after the copy: " + e.getMessage(), e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** One side of the copy. */
    private sealed interface End permits Lun, FileEnd {
        long blocks(int blockSize) throws IOException;

        void read(long lba, MemorySegment into, int blockSize) throws IOException, IscsiException;

        void write(long lba, MemorySegment from, int blockSize) throws IOException, IscsiException;

        void flush() throws IOException, IscsiException;
    }

    private record Lun(BlockDevice device) implements End {
        @Override
        public long blocks(int blockSize) {
            return device.blockCount();
        }

        @Override
        public void read(long lba, MemorySegment into, int blockSize) throws IscsiException {
            device.read(lba, into);
        }

        @Override
        public void write(long lba, MemorySegment from, int blockSize) throws IscsiException {
            device.write(lba, from);
        }

        @Override
        public void flush() throws IscsiException {
            device.flush();
        }
    }

    private record FileEnd(String name, FileChannel channel) implements End {
        /** A source file holds whole blocks; a trailing part block would be silently dropped. */
        @Override
        public long blocks(int blockSize) throws IOException {
            long size = channel.size();
            if (size % blockSize != 0) {
                throw new IllegalArgumentException(name + " holds " + size + " bytes, not a whole number of "
                        + blockSize + "-byte blocks");
            }
            return size / blockSize;
        }

        @Override
        public void read(long lba, MemorySegment into, int blockSize) throws IOException {
            ByteBuffer buffer = into.asByteBuffer();
            long position = lba * blockSize;
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + buffer.position()) < 0) {
                    throw new IOException(name + " ended before block " + lba);
                }
            }
        }

        @Override
        public void write(long lba, MemorySegment from, int blockSize) throws IOException {
            ByteBuffer buffer = from.asByteBuffer();
            long position = lba * blockSize;
            while (buffer.hasRemaining()) {
                channel.write(buffer, position + buffer.position());
            }
        }

        @Override
        public void flush() throws IOException {
            channel.force(false);
        }
    }
}
