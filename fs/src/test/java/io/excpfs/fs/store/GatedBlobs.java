package io.excpfs.fs.store;

import io.excpfs.fs.store.blob.BlobChannel;
import io.excpfs.fs.store.blob.Blobs;
import io.excpfs.fs.store.blob.LocalBlobs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Local blobs with a gate on the step of a seal that gives the staging file its object name (the rename out of
 * {@code staging/}): a test can hold a seal there, after it began and before its metadata commit, to order it
 * against another call deterministically; or make that step fail once. Opened through {@link #open}.
 */
public final class GatedBlobs implements Blobs {
    private final LocalBlobs local;
    private volatile CountDownLatch reached, release;
    private volatile boolean failNext;

    private GatedBlobs(Path root) {
        this.local = new LocalBlobs(root);
    }

    /** Opens a store at {@code dir} whose blobs go through a gate; {@code gate[0]} receives it. */
    public static Store open(Path dir, StoreOptions options, GatedBlobs[] gate) throws IOException {
        return Store.open(dir, options, Codec.checkpointCodec(), d -> gate[0] = new GatedBlobs(d));
    }

    /** The next seal stops before it names its object, until {@link #release}. */
    public void holdNextSeal() {
        reached = new CountDownLatch(1);
        release = new CountDownLatch(1);
    }

    /** Waits until a seal stopped at the gate. */
    public void awaitHeld() throws InterruptedException {
        if (!reached.await(60, TimeUnit.SECONDS)) throw new AssertionError("no seal reached the gate within 60 s");
    }

    public void release() {
        CountDownLatch go = release;
        if (go != null) go.countDown();
    }

    /** The next seal fails (IOException) where it would name its object. */
    public void failNextSeal() {
        failNext = true;
    }

    @Override public void rename(String from, String to) throws IOException {
        if (from.startsWith(Store.STAGING + "/") && to.startsWith(Store.OBJECTS + "/")) {
            CountDownLatch r = reached, go = release;
            if (r != null && r.getCount() > 0) {
                reached = null;
                r.countDown();
                try {
                    if (!go.await(60, TimeUnit.SECONDS)) throw new IOException("gate not released within 60 s");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted at the gate", e);
                }
            }
            if (failNext) {
                failNext = false;
                throw new IOException("injected failure naming " + to);
            }
        }
        local.rename(from, to);
    }

    @Override public BlobChannel create(String name) throws IOException { return local.create(name); }

    @Override public BlobChannel open(String name, boolean writable) throws IOException { return local.open(name, writable); }

    @Override public boolean delete(String name) throws IOException { return local.delete(name); }

    @Override public boolean createDirectory(String dir) throws IOException { return local.createDirectory(dir); }

    @Override public void syncDirectory(String dir) throws IOException { local.syncDirectory(dir); }

    @Override public List<String> list(String dir) throws IOException { return local.list(dir); }
}
