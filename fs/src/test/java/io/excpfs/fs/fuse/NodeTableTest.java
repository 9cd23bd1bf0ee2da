package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.excpfs.fs.fuse.NodeTable.ROOT;
import static org.junit.jupiter.api.Assertions.*;

/** The node table without a mount: paths follow renames, forgotten nodes go, open files get hidden names. */
class NodeTableTest {
    final NodeTable t = new NodeTable();

    @Test
    void renamingADirectoryMovesItsSubtree() throws FsException {
        long run = t.lookedUp(ROOT, "run");
        long ckpt = t.lookedUp(run, "checkpoint-500");
        long model = t.lookedUp(ckpt, "model.pt");
        assertEquals("/run/checkpoint-500/model.pt", t.path(model));
        long other = t.lookedUp(ROOT, "other");
        t.renamed(run, "checkpoint-500", other, "best", false);
        assertEquals("/other/best/model.pt", t.path(model));
        assertEquals("/other/best", t.path(ckpt));
        assertEquals(0, t.find(run, "checkpoint-500"));
        assertEquals(ckpt, t.find(other, "best"));
        assertEquals(model, t.lookedUp(ckpt, "model.pt"), "a second lookup finds the same node");
    }

    @Test
    void forgettingToZeroDropsTheNodeButNotBefore() throws FsException {
        long a = t.lookedUp(ROOT, "a");
        t.lookedUp(ROOT, "a");
        t.forget(a, 1);
        assertTrue(t.contains(a));
        assertEquals("/a", t.path(a));
        t.forget(a, 1);
        assertFalse(t.contains(a));
        assertEquals(0, t.find(ROOT, "a"));
        FsException e = assertThrows(FsException.class, () -> t.path(a));
        assertEquals(Errno.ENOENT, e.errno());
        assertNotEquals(a, t.lookedUp(ROOT, "a"), "ids are never reused");
        assertEquals(2, t.size(), "root and the new node");
    }

    @Test
    void aForgottenDirectoryStaysWhileAChildNeedsItsPath() throws FsException {
        long dir = t.lookedUp(ROOT, "d");
        long file = t.lookedUp(dir, "f");
        t.forget(dir, 1);
        assertTrue(t.contains(dir));
        assertEquals("/d/f", t.path(file));
        t.forget(file, 1);
        assertFalse(t.contains(file));
        assertFalse(t.contains(dir), "the directory goes with its last child");
        assertEquals(1, t.size());
    }

    @Test
    void aFileReplacedByRenameLosesItsNameButKeepsItsIdUntilForgotten() throws FsException {
        long a = t.lookedUp(ROOT, "a.pt");
        long tmp = t.lookedUp(ROOT, "a.pt.tmp");
        t.renamed(ROOT, "a.pt.tmp", ROOT, "a.pt", false);
        assertEquals("/a.pt", t.path(tmp));
        assertNull(t.pathOrNull(a));
        assertTrue(t.contains(a));
        t.forget(a, 1);
        assertFalse(t.contains(a));
    }

    @Test
    void unlinkWhileOpenHidesTheFileUntilItsLastRelease() throws FsException {
        long dir = t.lookedUp(ROOT, "run");
        long f = t.lookedUp(dir, "ckpt.pt");
        t.opened(f);
        t.opened(f);
        assertTrue(t.isOpen(dir, "ckpt.pt"));
        String hidden = t.hiddenName(dir, "ckpt.pt");
        assertTrue(hidden.matches("\\.fuse_hidden[0-9a-f]{16}"), hidden);
        assertTrue(hidden.startsWith(String.format(".fuse_hidden%08x", f)), "node id first, as libfuse 2 names them");
        t.renamed(dir, "ckpt.pt", dir, hidden, true);
        assertTrue(t.isHidden(f));
        assertEquals("/run/" + hidden, t.path(f), "fstat of its descriptors asks for the hidden name");
        assertEquals(0, t.find(dir, "ckpt.pt"));
        assertFalse(t.released(f), "one handle still open");
        assertTrue(t.released(f), "the last release unlinks the hidden name");
        assertEquals("/run/" + hidden, t.path(f), "the caller unlinks it by that path");
        t.removed(f);
        assertNull(t.pathOrNull(f));
        assertFalse(t.isHidden(f));
        t.forget(f, 1);
        assertFalse(t.contains(f));
    }

    @Test
    void hiddenNamesAreFreshAndHidingOntoATakenNameFails() throws FsException {
        long f = t.lookedUp(ROOT, "x");
        String first = t.hiddenName(ROOT, "x");
        t.lookedUp(ROOT, t.hiddenName(ROOT, "x"));
        assertNotEquals(first, t.hiddenName(ROOT, "x"));
        String taken = String.format(".fuse_hidden%08x%08x", f, 1);
        assertNotEquals(0, t.find(ROOT, taken));
        FsException e = assertThrows(FsException.class, () -> t.renamed(ROOT, "x", ROOT, taken, true));
        assertEquals(Errno.EBUSY, e.errno());
        assertEquals("/x", t.path(f));
        assertNull(t.hiddenName(ROOT, "missing"));
    }

    @Test
    void exchangeSwapsTwoNames() throws FsException {
        long a = t.lookedUp(ROOT, "a");
        long d = t.lookedUp(ROOT, "d");
        long b = t.lookedUp(d, "b");
        t.exchanged(ROOT, "a", d, "b");
        assertEquals("/d/b", t.path(a));
        assertEquals("/a", t.path(b));
    }

    /** Random lookups, renames, removals and forgets against a model of names; every path must match it. */
    @Test
    void randomNamespaceChangesKeepPathsRight() throws FsException {
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        Map<Long, String> model = new HashMap<>();
        Map<Long, Long> lookups = new HashMap<>();
        List<String> names = List.of("a", "b", "c");
        for (int step = 0; step < 5000; step++) {
            List<Long> live = new ArrayList<>(lookups.keySet());
            live.removeIf(id -> !model.containsKey(id));
            live.add(ROOT);
            long dir = live.get(r.nextInt(live.size()));
            String dirPath = dir == ROOT ? "" : model.get(dir);
            String name = names.get(r.nextInt(names.size()));
            String path = dirPath + "/" + name;
            switch (r.nextInt(4)) {
                case 0 -> {
                    long id = t.lookedUp(dir, name);
                    model.put(id, path);
                    lookups.merge(id, 1L, Long::sum);
                }
                case 1 -> {
                    long from = t.find(dir, name);
                    long target = live.get(r.nextInt(live.size()));
                    String targetPath = target == ROOT ? "" : model.get(target);
                    String newName = names.get(r.nextInt(names.size()));
                    String to = targetPath + "/" + newName;
                    if (from == 0 || (to + "/").startsWith(path + "/")) continue;
                    long replaced = t.find(target, newName);
                    t.renamed(dir, name, target, newName, false);
                    if (replaced != 0 && replaced != from) dropSubtree(model, model.get(replaced));
                    String old = path;
                    model.replaceAll((id, p) -> p.equals(old) ? to : p.startsWith(old + "/") ? to + p.substring(old.length()) : p);
                }
                case 2 -> {
                    long id = t.find(dir, name);
                    if (id == 0) continue;
                    t.removed(dir, name);
                    dropSubtree(model, path);
                }
                default -> {
                    if (lookups.isEmpty()) continue;
                    List<Long> known = new ArrayList<>(lookups.keySet());
                    long id = known.get(r.nextInt(known.size()));
                    t.forget(id, lookups.remove(id));
                }
            }
            for (Map.Entry<Long, String> e : model.entrySet()) {
                if (t.contains(e.getKey())) assertEquals(e.getValue(), t.path(e.getKey()), "seed " + seed + " step " + step);
            }
        }
    }

    private static void dropSubtree(Map<Long, String> model, String path) {
        model.values().removeIf(p -> p.equals(path) || p.startsWith(path + "/"));
    }
}
