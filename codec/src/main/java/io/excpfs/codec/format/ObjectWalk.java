package io.excpfs.codec.format;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks an unpickled object tree from the root and names every tensor by its key path (dict keys as text, int keys
 * in decimal, list and tuple indices in decimal, joined by {@code /}), in pickle order. Small leaves are collected
 * as metadata. Depth, visited nodes and metadata are bounded. A container reached a second time (shared through the
 * pickle memo, or a cycle) is not walked again, so the walk is linear in the size of the pickle; tensors themselves
 * are recorded at every key path that reaches them.
 */
final class ObjectWalk {
    /** One tensor reached at one key path. */
    record TensorUse(String path, Py.Tensor tensor) {}

    /** Key path of a tensor that is the whole object tree ({@code torch.save(tensor)}). */
    static final String ROOT_TENSOR = "tensor";
    static final int MAX_DEPTH = 200;
    static final int MAX_NODES = 2_000_000;
    static final int MAX_METADATA = 20_000;
    static final int MAX_METADATA_CHARS = 8 << 20;
    static final int MAX_STRING = 512;
    static final int MAX_LIST = 1 << 16;
    static final int MAX_PATH = 4096;
    static final long MAX_PATH_CHARS = 256L << 20;

    final List<TensorUse> tensors = new ArrayList<>();
    final Map<String, String> metadata = new LinkedHashMap<>();
    private final Set<Py> visited = Collections.newSetFromMap(new IdentityHashMap<>());
    private int nodes;
    private long metadataChars;
    private long pathChars;

    private ObjectWalk() {}

    static ObjectWalk of(Py root) throws MalformedCheckpoint {
        ObjectWalk w = new ObjectWalk();
        w.walk(root, "", 0);
        return w;
    }

    private void walk(Py v, String path, int depth) throws MalformedCheckpoint {
        if (++nodes > MAX_NODES) throw new MalformedCheckpoint("object tree has more than " + MAX_NODES + " nodes to walk");
        if (depth > MAX_DEPTH) throw new MalformedCheckpoint("object tree deeper than " + MAX_DEPTH + " at " + shorten(path));
        if (v instanceof Py.Tensor t) {
            tensors.add(new TensorUse(path.isEmpty() ? ROOT_TENSOR : path, t));
        } else if (v instanceof Py.Dict d) {
            container(d, () -> walkDict(d, path, depth));
        } else if (v instanceof Py.PyList l) {
            if (!numbers(l.items, path)) container(l, () -> walkList(l.items, path, depth));
        } else if (v instanceof Py.Tuple t) {
            if (!numbers(t.items, path)) container(t, () -> walkList(t.items, path, depth));
        } else if (v instanceof Py.Obj o) {
            container(o, () -> {
                walkDict(o.items, path, depth);
                walkList(o.listItems, path, depth);
                Py state = o.state;
                if (state instanceof Py.Tuple st && st.items.size() == 2) state = st.items.get(0);
                if (state instanceof Py.Dict sd) walkDict(sd, path, depth);
            });
        } else {
            leaf(path, render(v));
        }
    }

    private interface Body { void run() throws MalformedCheckpoint; }

    private void container(Py v, Body body) throws MalformedCheckpoint {
        if (visited.add(v)) body.run();
    }

    private void walkDict(Py.Dict d, String path, int depth) throws MalformedCheckpoint {
        int i = 0;
        for (Py[] e : d.entries()) {
            walk(e[1], child(path, keyText(e[0], i)), depth + 1);
            i++;
        }
    }

    private void walkList(List<Py> items, String path, int depth) throws MalformedCheckpoint {
        for (int i = 0; i < items.size(); i++) walk(items.get(i), child(path, Integer.toString(i)), depth + 1);
    }

    /** Key paths are bounded in length, and so is the total of all key paths built during the walk. */
    private String child(String path, String segment) throws MalformedCheckpoint {
        if (path.length() + 1L + segment.length() > MAX_PATH) {
            throw new MalformedCheckpoint("key path longer than " + MAX_PATH + " characters under " + shorten(path.isEmpty() ? segment : path));
        }
        String c = KeyPaths.child(path, segment);
        pathChars += c.length();
        if (pathChars > MAX_PATH_CHARS) throw new MalformedCheckpoint("object tree key paths exceed " + MAX_PATH_CHARS + " characters");
        return c;
    }

    private static String keyText(Py k, int index) {
        if (k instanceof Py.Str s) return s.value();
        String r = scalar(k);
        return r != null ? r : "#" + index;
    }

    /** Lists and tuples of plain numbers become one metadata leaf, e.g. {@code [0, 1, 2]}. */
    private boolean numbers(List<Py> items, String path) {
        if (items.isEmpty() || items.size() > MAX_LIST) return false;
        StringBuilder sb = new StringBuilder("[");
        for (Py p : items) {
            if (!(p instanceof Py.Int || p instanceof Py.Float || p instanceof Py.Bool)) return false;
            String r = scalar(p);
            if (sb.length() > 1) sb.append(", ");
            sb.append(r);
        }
        leaf(path, sb.append(']').toString());
        return true;
    }

    private static String render(Py v) {
        if (v instanceof Py.Str s) return s.value().length() <= MAX_STRING ? s.value() : null;
        return scalar(v);
    }

    private static String scalar(Py v) {
        if (v instanceof Py.Int n) return Long.toString(n.value());
        if (v instanceof Py.BigInt n) return n.value().toString();
        if (v instanceof Py.Float f) return KeyPaths.pyFloat(f.value());
        if (v instanceof Py.Bool b) return b.value() ? "True" : "False";
        if (v instanceof Py.None) return "None";
        return null;
    }

    private void leaf(String path, String value) {
        if (value == null || path.isEmpty() || metadata.size() >= MAX_METADATA) return;
        long chars = (long) path.length() + value.length();
        if (metadataChars + chars > MAX_METADATA_CHARS) return;
        metadataChars += chars;
        metadata.put(path, value);
    }

    private static String shorten(String path) {
        return path.length() <= 120 ? path : path.substring(0, 120) + "...";
    }
}
