package io.excpfs.fs.fuse;

import io.excpfs.fs.ops.Errno;
import io.excpfs.fs.ops.FsException;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's node ids mapped to paths, as libfuse 2's high-level layer keeps them. A node has a parent and a
 * name (while hashed), a lookup count (LOOKUP, CREATE, MKDIR, SYMLINK, LINK add one; FORGET subtracts) and an open
 * count. Paths are computed from the parent links, so a renamed directory's subtree follows it. A node is dropped
 * when the kernel has forgotten it, no handle is open on it and no hashed child needs it for its path.
 *
 * <p>Hidden names: a file unlinked or replaced while open is renamed to {@code .fuse_hidden%08x%08x} (node id,
 * counter) in its directory and marked hidden; its last release unlinks that name ({@link #released}).
 *
 * <p>Thread safe; every method is atomic. Node ids are never reused (generation 0).
 */
final class NodeTable {
    static final long ROOT = 1;

    private static final class Node {
        final long id;
        Node parent;
        String name;
        long lookups;
        int opens;
        int children;
        boolean hidden;

        Node(long id) { this.id = id; }
    }

    private record Name(long parent, String name) {}

    private final Map<Long, Node> byId = new HashMap<>();
    private final Map<Name, Node> byName = new HashMap<>();
    private long nextId = ROOT + 1;
    private int hideCounter;

    NodeTable() {
        Node root = new Node(ROOT);
        root.lookups = 1;
        byId.put(ROOT, root);
    }

    private Node node(long id) throws FsException {
        Node n = byId.get(id);
        if (n == null) throw new FsException(Errno.ENOENT, "unknown node " + id);
        return n;
    }

    /** The path of a node, e.g. {@code /run/ckpt.pt}; ENOENT for a node without a name (removed, replaced). */
    synchronized String path(long id) throws FsException {
        Node n = node(id);
        if (id == ROOT) return "/";
        Deque<String> names = new ArrayDeque<>();
        for (Node x = n; x.id != ROOT; x = x.parent) {
            if (x.name == null) throw new FsException(Errno.ENOENT, "node " + id + " has no name (removed)");
            names.addFirst(x.name);
        }
        return "/" + String.join("/", names);
    }

    /** Like {@link #path}, null for a node without a name (handle operations on a removed file). */
    synchronized String pathOrNull(long id) {
        try {
            return path(id);
        } catch (FsException e) {
            return null;
        }
    }

    synchronized String childPath(long parent, String name) throws FsException {
        String p = path(parent);
        return p.equals("/") ? "/" + name : p + "/" + name;
    }

    /** The node for {@code name} in {@code parent}, created if new, with one more lookup; returns its id. */
    synchronized long lookedUp(long parent, String name) throws FsException {
        Node dir = node(parent);
        Node n = byName.get(new Name(parent, name));
        if (n == null) {
            n = new Node(nextId++);
            byId.put(n.id, n);
            hash(n, dir, name);
        }
        n.lookups++;
        return n.id;
    }

    /** Node id for a name, or 0 when the table holds none. */
    synchronized long find(long parent, String name) {
        Node n = byName.get(new Name(parent, name));
        return n == null ? 0 : n.id;
    }

    synchronized void forget(long id, long count) {
        Node n = byId.get(id);
        if (n == null || id == ROOT) return;
        n.lookups = Math.max(0, n.lookups - count);
        dropIfUnused(n);
    }

    synchronized boolean isOpen(long parent, String name) {
        Node n = byName.get(new Name(parent, name));
        return n != null && n.opens > 0;
    }

    synchronized void opened(long id) throws FsException {
        node(id).opens++;
    }

    /**
     * One handle of the node closed. Returns true when it was the last one of a hidden node: the caller then
     * unlinks the hidden name ({@link #path} still gives it) and calls {@link #removed(long)}.
     */
    synchronized boolean released(long id) {
        Node n = byId.get(id);
        if (n == null) return false;
        if (n.opens > 0) n.opens--;
        boolean unlinkHidden = n.hidden && n.opens == 0;
        if (unlinkHidden) n.hidden = false;
        if (!unlinkHidden) dropIfUnused(n);
        return unlinkHidden;
    }

    /** The name in {@code parent} is gone (unlink, rmdir): the node keeps its id but has no path any more. */
    synchronized void removed(long parent, String name) {
        Node n = byName.get(new Name(parent, name));
        if (n == null) return;
        Node dir = unhash(n);
        dropIfUnused(n);
        dropIfUnused(dir);
    }

    synchronized void removed(long id) {
        Node n = byId.get(id);
        if (n == null) return;
        Node dir = unhash(n);
        dropIfUnused(n);
        dropIfUnused(dir);
    }

    /**
     * A rename that succeeded in the ops: the node named {@code oldName} moves to {@code newName}, a node that had
     * that name loses it; {@code hide} marks the moved node hidden (its last release unlinks it).
     */
    synchronized void renamed(long oldDir, String oldName, long newDir, String newName, boolean hide)
            throws FsException {
        Node n = byName.get(new Name(oldDir, oldName));
        Node target = byName.get(new Name(newDir, newName));
        Node dir = node(newDir);
        if (n == null) return;
        if (target == n) return;
        Node targetDir = null;
        if (target != null) {
            if (hide) throw new FsException(Errno.EBUSY, "hidden name " + newName + " appeared while hiding");
            targetDir = unhash(target);
        }
        Node oldParent = unhash(n);
        hash(n, dir, newName);
        if (hide) n.hidden = true;
        if (target != null) dropIfUnused(target);
        dropIfUnused(targetDir);
        dropIfUnused(oldParent);
    }

    /** RENAME_EXCHANGE: the two names swap their nodes. */
    synchronized void exchanged(long dirA, String nameA, long dirB, String nameB) throws FsException {
        Node a = byName.get(new Name(dirA, nameA));
        Node b = byName.get(new Name(dirB, nameB));
        Node pa = node(dirA), pb = node(dirB);
        if (a != null) unhash(a);
        if (b != null) unhash(b);
        if (a != null) hash(a, pb, nameB);
        if (b != null) hash(b, pa, nameA);
        dropIfUnused(pa);
        dropIfUnused(pb);
    }

    /**
     * A candidate hidden name for the node named {@code name} in {@code dir}, as libfuse 2 makes them
     * ({@code .fuse_hidden} + node id and a counter, 8 hex digits each), not yet held by a node; null if the node
     * is unknown.
     */
    synchronized String hiddenName(long dir, String name) {
        Node n = byName.get(new Name(dir, name));
        if (n == null) return null;
        while (true) {
            String hidden = String.format(".fuse_hidden%08x%08x", (int) n.id, hideCounter++);
            if (!byName.containsKey(new Name(dir, hidden))) return hidden;
        }
    }

    synchronized int size() { return byId.size(); }

    synchronized boolean contains(long id) { return byId.containsKey(id); }

    synchronized boolean isHidden(long id) {
        Node n = byId.get(id);
        return n != null && n.hidden;
    }

    private void hash(Node n, Node dir, String name) {
        n.parent = dir;
        n.name = name;
        dir.children++;
        byName.put(new Name(dir.id, name), n);
    }

    /** Takes the node's name away; returns its former directory (to drop once the change is complete). */
    private Node unhash(Node n) {
        if (n.name == null) return null;
        byName.remove(new Name(n.parent.id, n.name));
        Node dir = n.parent;
        dir.children--;
        n.name = null;
        n.parent = null;
        return dir;
    }

    private void dropIfUnused(Node n) {
        while (n != null && n.id != ROOT && n.lookups == 0 && n.opens == 0 && n.children == 0 && byId.get(n.id) == n) {
            byId.remove(n.id);
            n = unhash(n);
        }
    }

}
