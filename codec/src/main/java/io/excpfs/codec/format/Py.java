package io.excpfs.codec.format;

import io.excpfs.codec.DType;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Values built by {@link PickleMachine}: inert data, never executed. Scalars are records compared by value (usable
 * as dict keys); containers and objects are identity classes so that hashing never recurses into them.
 */
sealed interface Py {
    record None() implements Py {}

    record Bool(boolean value) implements Py {}

    record Int(long value) implements Py {}

    record BigInt(BigInteger value) implements Py {}

    record Float(double value) implements Py {}

    record Str(String value) implements Py {}

    /** Byte strings: only their length is kept. */
    record Bytes(long length) implements Py {}

    /** A global reference {@code module.name}; never resolved to code. */
    record Global(String module, String name) implements Py {
        boolean is(String m, String n) { return module.equals(m) && name.equals(n); }

        String dotted() { return module + "." + name; }
    }

    /** Internal stack marker of MARK; never part of a value. */
    record Mark() implements Py {}

    final class PyList implements Py {
        final List<Py> items = new ArrayList<>();
    }

    final class Tuple implements Py {
        final List<Py> items;

        Tuple(List<Py> items) { this.items = items; }
    }

    /** A dict (also OrderedDict and dict subclasses); keys of scalar type are merged by value as in Python. */
    final class Dict implements Py {
        private final Map<Object, Py[]> entries = new LinkedHashMap<>();

        void put(Py key, Py value) {
            Object k = key instanceof Str || key instanceof Int || key instanceof Bool || key instanceof Float
                    || key instanceof None || key instanceof BigInt ? key : new Object();
            Py[] e = entries.get(k);
            if (e != null) e[1] = value; else entries.put(k, new Py[]{key, value});
        }

        Iterable<Py[]> entries() { return entries.values(); }

        int size() { return entries.size(); }
    }

    /** An object the machine does not understand: the callable with its arguments and whatever was added to it. */
    final class Obj implements Py {
        final Py callable;
        final Py args;
        final Dict items = new Dict();
        final List<Py> listItems = new ArrayList<>();
        Py state;

        Obj(Py callable, Py args) {
            this.callable = callable;
            this.args = args;
        }
    }

    /**
     * A torch storage named by a persistent id {@code ('storage', type, key, location, numel[, view])}.
     *
     * @param dtype       element type ({@link DType#OTHER} for types kept exact)
     * @param elementSize bytes per element of the storage type
     * @param numel       element count declared in the persistent id
     */
    record Storage(DType dtype, int elementSize, String key, String location, long numel) implements Py {
        long bytes() { return Math.multiplyExact(numel, (long) elementSize); }
    }

    /** A tensor view of a storage, as rebuilt by {@code torch._utils._rebuild_tensor_v2}. */
    final class Tensor implements Py {
        final Storage storage;
        final long storageOffset;
        final long[] size;
        final long[] stride;

        Tensor(Storage storage, long storageOffset, long[] size, long[] stride) {
            this.storage = storage;
            this.storageOffset = storageOffset;
            this.size = size;
            this.stride = stride;
        }
    }
}
