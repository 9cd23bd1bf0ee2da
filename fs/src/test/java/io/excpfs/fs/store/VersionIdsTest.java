package io.excpfs.fs.store;

import io.excpfs.fs.mount.StoreFileSystem;
import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import io.excpfs.fs.ops.FileSystemOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.excpfs.fs.store.StoreTest.random;
import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Version ids are never handed out twice: history names ({@code b.pt@2}), logs, {@code stats} and users' scripts
 * hold them, and a reused id would make a held name read another checkpoint. The newest version is deleted here the
 * way retention and compaction delete versions ({@link Metadata#remove} and {@link Store#forget}).
 */
class VersionIdsTest {
    @TempDir Path tmp;

    Store open() throws Exception { return Store.open(tmp.resolve("store"), StoreOptions.parse("hot=1,keep_last=0")); }

    static void removeVersion(Store s, long id) throws FsException {
        Metadata db = s.metadata();
        assertTrue(db.write(() -> db.remove(id)), "version " + id + " removable");
        s.forget(id);
    }

    static byte[] readAll(FileSystemOps fs, String path) throws FsException {
        long fh = fs.open(path, FileSystemOps.O_RDONLY);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            for (long pos = 0; ; ) {
                int n = fs.read(fh, pos, buf, buf.length);
                if (n <= 0) return out.toByteArray();
                out.write(buf, 0, n);
                pos += n;
            }
        } finally {
            fs.release(fh);
        }
    }

    @Test void theIdOfADeletedNewestVersionIsNotHandedOutAgainNorAfterAReopen() throws Exception {
        long deleted;
        try (Store s = open()) {
            write(s, "/a.pt", random(1000, 1));
            VersionInfo b = write(s, "/b.pt", random(1000, 2));
            s.unlink("/b.pt");
            removeVersion(s, b.id());
            deleted = b.id();
            VersionInfo c = write(s, "/c.pt", random(1000, 3));
            assertEquals(deleted + 1, c.id(), "a new seal after the newest version was deleted");
            s.unlink("/c.pt");
            removeVersion(s, c.id());
        }
        try (Store s = open()) {
            VersionInfo d = write(s, "/d.pt", random(1000, 4));
            assertEquals(deleted + 2, d.id(), "the counter is in the metadata: a reopen does not fall back to max(id) + 1");
            assertEquals(List.of(), s.verify(true));
        }
    }

    /** A history name held by a user names the deleted checkpoint or nothing, never a newer one. */
    @Test void aHistoryNameNeverNamesAnotherCheckpoint() throws Exception {
        byte[] first = random(30_000, 5), second = random(30_000, 6);
        try (Store s = open()) {
            StoreFileSystem fs = new StoreFileSystem(s);
            write(s, "/keep.pt", random(1000, 7));
            VersionInfo v1 = write(s, "/b.pt", first);
            fs.unlink("/b.pt");
            String held = "/.excp/history/b.pt@" + v1.id();
            assertArrayEquals(first, readAll(fs, held));
            long heldIno = fs.getattr(held).ino();
            removeVersion(s, v1.id());
            VersionInfo v2 = write(s, "/b.pt", second);
            assertNotEquals(v1.id(), v2.id());
            fs.unlink("/b.pt");
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr(held)).errno(),
                    "the deleted checkpoint's name is gone, not handed to the new one");
            String now = "/.excp/history/b.pt@" + v2.id();
            assertArrayEquals(second, readAll(fs, now));
            assertNotEquals(heldIno, fs.getattr(now).ino(), "the kernel may still cache the old entry's inode number");
        }
    }

    /** Seeded random sequence of seals, unlinks and removals of the newest history versions, across reopens. */
    @Test void idsGrowStrictlyUnderRandomDeletesAndReopens() throws Exception {
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        Set<Long> handedOut = new HashSet<>();
        long last = 0;
        for (int session = 0; session < 4; session++) {
            try (Store s = open()) {
                for (int op = 0; op < 25; op++) {
                    String path = "/f" + r.nextInt(4) + ".pt";
                    VersionInfo v = write(s, path, random(200 + r.nextInt(200), r.nextLong()));
                    assertTrue(v.id() > last && handedOut.add(v.id()), "seed " + seed + ": id " + v.id() + " after " + last);
                    last = v.id();
                    if (r.nextBoolean()) {
                        s.unlink(path);
                        List<Long> history = new ArrayList<>();
                        for (VersionInfo h : s.versions()) {
                            if (h.status() == VersionStatus.HISTORY && s.metadata().read(() -> s.metadata().dependents(h.id())).isEmpty()) history.add(h.id());
                        }
                        if (!history.isEmpty() && r.nextBoolean()) removeVersion(s, history.get(history.size() - 1));
                    }
                }
                assertEquals(List.of(), s.verify(false), "seed " + seed);
            }
        }
    }
}
