package io.excpfs.fs.store;

import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * An in-memory {@link Blobs} that injects faults from a seeded plan and models what a machine crash keeps (in the
 * spirit of RocksDB's FaultInjectionTestFS and Lucene's MockDirectoryWrapper).
 *
 * <p>Faults while running, each with its own probability: a failed create, write, fsync, rename or directory sync
 * ({@link IOException}, a write may land partly first); a short read; a bit flipped in the bytes a read of an
 * object returns (the stored bytes stay right). {@link #rot} flips a bit in an object at rest.
 *
 * <p>Crash model (POSIX, not a particular file system): file content is durable as of its last
 * {@link BlobChannel#force}; a namespace change (create, rename, delete, mkdir) is durable once its directory (for a
 * rename: either directory) was synced, a new directory once its parent was. At {@link #crash()} every change that
 * was not made durable independently survives or not (in order, a rename as a whole), and every file whose content
 * changed since its last fsync comes back as it was at the fsync, as it is now, cut at a random length, or with a
 * random 4 KiB page zeroed. {@code crashAtOp} crashes the machine at that mutating call (counted from
 * {@link #arm}); from then on every call fails, as the machine is gone. (Metadata commits that follow the crash
 * come from threads whose object I/O all finished before it, so the database as it is when the store is closed
 * afterwards is a state the crashed machine could have kept: SQLite in WAL mode with synchronous=FULL.)
 */
final class FaultyBlobs implements Blobs {
    /** Probabilities of the faults injected while armed. */
    record Plan(double failWrite, double shortRead, double flipRead, long crashAtOp) {
        static final Plan NONE = new Plan(0, 0, 0, Long.MAX_VALUE);
    }

    /** What the crash image kept and lost, for the report. */
    record CrashFigures(int lostChanges, int keptChanges, int damagedFiles) {}

    private static final class Node {
        byte[] data = new byte[0];
        int size;
        byte[] durable = new byte[0];
        boolean dirty;

        byte[] content() { return Arrays.copyOf(data, size); }
    }

    /** One namespace change: removes {@code from} (if any) and puts {@code node} at {@code to} (if any). */
    private record Change(String from, String to, Node node, boolean dir) {
        boolean touches(String d) { return d.equals(parent(from)) || d.equals(parent(to)); }
    }

    private final Random random;
    private final Map<String, Node> files = new HashMap<>();
    private final Set<String> dirs = new HashSet<>();
    private final Map<String, Node> durableFiles = new HashMap<>();
    private final Set<String> durableDirs = new HashSet<>();
    private final List<Change> pending = new ArrayList<>();
    private Plan plan = Plan.NONE;
    private long mutations;
    private boolean crashed;
    private FaultyBlobs image;
    private CrashFigures figures;
    final Map<String, Integer> injected = new HashMap<>();

    FaultyBlobs(long seed) {
        random = new Random(seed);
        dirs.add(ROOT);
        durableDirs.add(ROOT);
    }

    /** Starts injecting faults per {@code plan}. */
    synchronized void arm(Plan plan) {
        this.plan = plan;
        this.mutations = 0;
    }

    synchronized void disarm() { plan = Plan.NONE; }

    synchronized boolean crashed() { return crashed; }

    /** The disk after the crash: the durable state plus whatever unsynced changes the crash happened to keep. */
    synchronized FaultyBlobs image() { return image; }

    synchronized CrashFigures crashFigures() { return figures; }

    /** Crashes the machine now (if it has not crashed yet). */
    synchronized void crash() {
        if (!crashed) takeImage(false);
    }

    /** Crashes the machine now, keeping nothing that was not made durable: the deterministic worst case. */
    synchronized void crashLosingEverythingUnsynced() {
        if (!crashed) takeImage(true);
    }

    /** Flips one random bit of a stored file (content and durable copy): damage at rest. */
    synchronized void rot(String name) {
        Node n = files.get(name);
        if (n == null || n.size == 0) throw new IllegalArgumentException("nothing to rot at " + name);
        int bit = random.nextInt(n.size * 8);
        n.data[bit / 8] ^= (byte) (1 << (bit % 8));
        if (n.durable.length > bit / 8) n.durable[bit / 8] ^= (byte) (1 << (bit % 8));
    }

    synchronized Set<String> names() { return new HashSet<>(files.keySet()); }

    /** Whether {@code name} exists and holds at least one byte (a bit of it can be flipped). */
    synchronized boolean hasData(String name) {
        Node n = files.get(name);
        return n != null && n.size > 0;
    }

    // ---------------------------------------------------------------- faults

    private void alive() throws IOException {
        if (crashed) throw new IOException("machine crashed");
    }

    /** Counts a mutating call; crashes or fails it per plan. */
    private void mutation(String what) throws IOException {
        alive();
        if (++mutations >= plan.crashAtOp()) {
            takeImage(false);
            throw new IOException("machine crashed during " + what);
        }
        if (random.nextDouble() < plan.failWrite()) {
            injected.merge("failed " + what.split(" ")[0], 1, Integer::sum);
            throw new IOException("injected failure: " + what);
        }
    }

    private void takeImage(boolean loseAll) {
        crashed = true;
        FaultyBlobs img = new FaultyBlobs(random.nextLong());
        img.dirs.clear();
        img.dirs.addAll(durableDirs);
        Map<String, Node> ns = new HashMap<>(durableFiles);
        int lost = 0, kept = 0;
        for (Change c : pending) {
            if (loseAll || random.nextBoolean()) {
                lost++;
                continue;
            }
            kept++;
            if (c.dir()) {
                img.dirs.add(c.to());
                continue;
            }
            Node n = c.from() == null ? c.node() : ns.remove(c.from());
            if (c.from() != null && n == null) continue;
            if (c.to() != null) ns.put(c.to(), n);
        }
        int damaged = 0;
        Map<Node, Node> copies = new HashMap<>();
        for (Map.Entry<String, Node> e : ns.entrySet()) {
            if (!img.dirs.contains(parent(e.getKey()))) continue;
            Node n = e.getValue();
            Node copy = copies.get(n);
            if (copy == null) {
                byte[] now = n.content();
                byte[] after;
                if (!n.dirty) {
                    after = now;
                } else {
                    damaged++;
                    switch (loseAll ? 0 : random.nextInt(4)) {
                        case 0 -> after = n.durable.clone();
                        case 1 -> after = now;
                        case 2 -> after = Arrays.copyOf(now, random.nextInt(now.length + 1));
                        default -> {
                            after = now;
                            if (after.length > 0) {
                                int page = random.nextInt((after.length + 4095) / 4096);
                                Arrays.fill(after, page * 4096, Math.min(after.length, page * 4096 + 4096), (byte) 0);
                            }
                        }
                    }
                }
                copy = new Node();
                copy.data = after;
                copy.size = after.length;
                copy.durable = after.clone();
                copies.put(n, copy);
            }
            img.files.put(e.getKey(), copy);
        }
        img.durableDirs.addAll(img.dirs);
        img.durableFiles.putAll(img.files);
        image = img;
        figures = new CrashFigures(lost, kept, damaged);
    }

    private void change(Change c) {
        pending.add(c);
    }

    static String parent(String name) {
        if (name == null) return null;
        int i = name.lastIndexOf('/');
        return i < 0 ? ROOT : name.substring(0, i);
    }

    private void needDir(String name) throws IOException {
        if (!dirs.contains(parent(name))) throw new NoSuchFileException(name + " (no directory " + parent(name) + ")");
    }

    // ---------------------------------------------------------------- Blobs

    @Override public synchronized BlobChannel create(String name) throws IOException {
        mutation("create " + name);
        needDir(name);
        if (files.containsKey(name)) throw new FileAlreadyExistsException(name);
        Node n = new Node();
        files.put(name, n);
        change(new Change(null, name, n, false));
        return new Channel(name, n, true);
    }

    @Override public synchronized BlobChannel open(String name, boolean writable) throws IOException {
        alive();
        Node n = files.get(name);
        if (n == null) throw new NoSuchFileException(name);
        return new Channel(name, n, writable);
    }

    @Override public synchronized void rename(String from, String to) throws IOException {
        mutation("rename " + from);
        Node n = files.get(from);
        if (n == null) throw new NoSuchFileException(from);
        needDir(to);
        if (files.containsKey(to)) throw new FileAlreadyExistsException(to);
        files.remove(from);
        files.put(to, n);
        change(new Change(from, to, n, false));
    }

    @Override public synchronized boolean delete(String name) throws IOException {
        mutation("delete " + name);
        Node n = files.remove(name);
        if (n == null) return false;
        change(new Change(name, null, n, false));
        return true;
    }

    @Override public synchronized boolean createDirectory(String dir) throws IOException {
        alive();
        if (dirs.contains(dir)) return false;
        String p = parent(dir);
        if (!dirs.contains(p)) createDirectory(p);
        mutation("mkdir " + dir);
        dirs.add(dir);
        change(new Change(null, dir, null, true));
        return true;
    }

    @Override public synchronized void syncDirectory(String dir) throws IOException {
        mutation("sync " + dir);
        if (!dirs.contains(dir)) throw new NoSuchFileException(dir);
        for (var it = pending.iterator(); it.hasNext(); ) {
            Change c = it.next();
            if (!c.touches(dir)) continue;
            it.remove();
            if (c.dir()) {
                durableDirs.add(c.to());
                continue;
            }
            if (c.from() != null) durableFiles.remove(c.from());
            if (c.to() != null) durableFiles.put(c.to(), c.node());
        }
    }

    @Override public synchronized List<String> list(String dir) throws IOException {
        alive();
        String prefix = dir + "/";
        return files.keySet().stream().filter(f -> f.startsWith(prefix)).toList();
    }

    private final class Channel implements BlobChannel {
        private final String name;
        private final Node node;
        private final boolean writable;
        private boolean closed;

        Channel(String name, Node node, boolean writable) {
            this.name = name;
            this.node = node;
            this.writable = writable;
        }

        private void open() throws IOException {
            alive();
            if (closed) throw new java.nio.channels.ClosedChannelException();
        }

        @Override public long size() throws IOException {
            synchronized (FaultyBlobs.this) {
                open();
                return node.size;
            }
        }

        @Override public int read(ByteBuffer dst, long pos) throws IOException {
            synchronized (FaultyBlobs.this) {
                open();
                if (pos >= node.size) return -1;
                int n = (int) Math.min(dst.remaining(), node.size - pos);
                if (n > 1 && random.nextDouble() < plan.shortRead()) {
                    n = 1 + random.nextInt(n - 1);
                    injected.merge("short read", 1, Integer::sum);
                }
                int at = dst.position();
                dst.put(node.data, (int) pos, n);
                if (name.startsWith(Store.OBJECTS + "/") && random.nextDouble() < plan.flipRead()) {
                    int bit = random.nextInt(n * 8);
                    dst.put(at + bit / 8, (byte) (dst.get(at + bit / 8) ^ (1 << (bit % 8))));
                    injected.merge("bit flipped in a read", 1, Integer::sum);
                }
                return n;
            }
        }

        @Override public int write(ByteBuffer src, long pos) throws IOException {
            synchronized (FaultyBlobs.this) {
                open();
                if (!writable) throw new java.nio.channels.NonWritableChannelException();
                int len = src.remaining();
                boolean fail = random.nextDouble() < plan.failWrite();
                mutation("write " + name);
                if (fail && len > 1) len = 1 + random.nextInt(len - 1);
                long end = pos + len;
                if (end > Integer.MAX_VALUE) throw new IOException("file too large for the model");
                if (end > node.data.length) node.data = Arrays.copyOf(node.data, (int) Math.max(end, node.data.length * 2L));
                if (pos > node.size) Arrays.fill(node.data, node.size, (int) pos, (byte) 0);
                src.get(node.data, (int) pos, len);
                node.size = (int) Math.max(node.size, end);
                node.dirty = true;
                if (fail) {
                    injected.merge("failed write (partly written)", 1, Integer::sum);
                    throw new IOException("injected failure: write " + name + " after " + len + " bytes");
                }
                return len;
            }
        }

        @Override public void truncate(long size) throws IOException {
            synchronized (FaultyBlobs.this) {
                open();
                if (!writable) throw new java.nio.channels.NonWritableChannelException();
                mutation("truncate " + name);
                if (size < node.size) {
                    node.size = (int) size;
                    node.dirty = true;
                }
            }
        }

        @Override public void force() throws IOException {
            synchronized (FaultyBlobs.this) {
                open();
                mutation("fsync " + name);
                node.durable = node.content();
                node.dirty = false;
            }
        }

        @Override public void close() {
            closed = true;
        }
    }
}
