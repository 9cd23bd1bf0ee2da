package io.excpfs.codec.format;

import io.excpfs.codec.DType;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A non-executing pickle reader (protocols 0..5, minus out-of-band buffers and the extension registry). It runs the
 * opcode stream into inert {@link Py} values: globals stay symbols, and only the reductions torch.save relies on are
 * understood ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2} and relatives,
 * {@code _rebuild_parameter}, and persistent ids of torch storages). Every size read from the stream is checked
 * against the bytes that remain, and the number of values pushed, marks and memo stores is bounded together
 * ({@link #MAX_VALUES}, a few hundred MB of heap at worst).
 */
final class PickleMachine {
    /** Thrown when the stream ends before STOP; the caller may retry with more bytes. */
    static final class OutOfBytes extends MalformedCheckpoint {
        OutOfBytes(long offset) { super("pickle ends before STOP at offset " + offset); }
    }

    /**
     * Result of one pickle.
     *
     * @param end      offset in the buffer just after STOP
     * @param storages every storage named by a persistent id, by storage key, first occurrence
     */
    record Result(Py value, int end, Map<String, Py.Storage> storages) {}

    static final int MAX_VALUES = 4_000_000;
    static final int MAX_LONG_BYTES = 4096;
    static final int MAX_LINE = 4096;

    private final byte[] buf;
    private final long base;
    private int pos;
    private final ArrayList<Py> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Py> memo = new HashMap<>();
    private final Map<String, Py.Storage> storages = new java.util.LinkedHashMap<>();
    private int values;

    private PickleMachine(byte[] buf, int start, long base) {
        this.buf = buf;
        this.pos = start;
        this.base = base;
    }

    /**
     * Runs one pickle starting at {@code start} of {@code buf}.
     *
     * @param base file offset of {@code buf[0]}, for error messages
     */
    static Result run(byte[] buf, int start, long base) throws MalformedCheckpoint {
        PickleMachine m = new PickleMachine(buf, start, base);
        Py v = m.loop();
        return new Result(v, m.pos, m.storages);
    }

    private MalformedCheckpoint bad(String what) {
        return MalformedCheckpoint.at(base + pos, "pickle: " + what);
    }

    private void need(long n) throws MalformedCheckpoint {
        if (n < 0) throw bad("negative length " + n);
        if (pos + n > buf.length) throw new OutOfBytes(base + pos);
    }

    private int u8() throws MalformedCheckpoint {
        need(1);
        return buf[pos++] & 0xff;
    }

    private long le(int n) throws MalformedCheckpoint {
        need(n);
        long v = 0;
        for (int i = 0; i < n; i++) v |= (long) (buf[pos + i] & 0xff) << (8 * i);
        pos += n;
        return v;
    }

    private byte[] take(long n) throws MalformedCheckpoint {
        need(n);
        byte[] b = java.util.Arrays.copyOfRange(buf, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private String line() throws MalformedCheckpoint {
        int start = pos;
        while (true) {
            if (pos - start > MAX_LINE) throw bad("text argument longer than " + MAX_LINE);
            if (u8() == '\n') break;
        }
        return new String(buf, start, pos - start - 1, StandardCharsets.ISO_8859_1);
    }

    /** Every push, MARK and memo store counts: this bounds the stack, the memo and what they hold. */
    private void count() throws MalformedCheckpoint {
        if (++values > MAX_VALUES) throw bad("more than " + MAX_VALUES + " values, marks and memo entries");
    }

    private Py push(Py v) throws MalformedCheckpoint {
        count();
        stack.add(v);
        return v;
    }

    private void memoPut(long index) throws MalformedCheckpoint {
        count();
        memo.put(index, top());
    }

    private Py pop() throws MalformedCheckpoint {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw bad("stack underflow");
        return stack.remove(stack.size() - 1);
    }

    private Py top() throws MalformedCheckpoint {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw bad("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Py> popMark() throws MalformedCheckpoint {
        if (marks.isEmpty()) throw bad("no MARK on the stack");
        int m = marks.remove(marks.size() - 1);
        List<Py> sub = stack.subList(m, stack.size());
        List<Py> items = new ArrayList<>(sub);
        sub.clear();
        return items;
    }

    private Py loop() throws MalformedCheckpoint {
        while (true) {
            int op = u8();
            switch (op) {
                case 0x80 -> { int proto = u8(); if (proto > 5) throw bad("unsupported protocol " + proto); }
                case 0x95 -> le(8); // FRAME: advisory
                case '.' -> {
                    Py v = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) throw bad("values left on the stack at STOP");
                    return v;
                }
                case '(' -> { count(); marks.add(stack.size()); }
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(top());
                case 'N' -> push(new Py.None());
                case 0x88 -> push(new Py.Bool(true));
                case 0x89 -> push(new Py.Bool(false));
                case 'J' -> push(new Py.Int((int) le(4)));
                case 'K' -> push(new Py.Int(u8()));
                case 'M' -> push(new Py.Int(le(2)));
                case 'I' -> push(textInt(line()));
                case 'L' -> push(textInt(stripL(line())));
                case 0x8a -> push(longBytes(u8()));
                case 0x8b -> {
                    long n = le(4);
                    if (n > MAX_LONG_BYTES) throw bad("LONG4 of " + n + " bytes");
                    push(longBytes((int) n));
                }
                case 'F' -> push(new Py.Float(textFloat(line())));
                case 'G' -> push(new Py.Float(Double.longBitsToDouble(Long.reverseBytes(le(8)))));
                case 'S' -> push(new Py.Str(unquote(line())));
                case 'U', 'C' -> { int n = u8(); need(n); pos += n; push(new Py.Bytes(n)); }
                case 'B', 'T' -> { long n = le(4); need(n); pos += (int) n; push(new Py.Bytes(n)); }
                case 0x8e, 0x96 -> { long n = le(8); need(n); pos += (int) n; push(new Py.Bytes(n)); }
                case 'V' -> push(new Py.Str(rawUnicodeEscape(line())));
                case 'X' -> push(new Py.Str(utf8(le(4))));
                case 0x8c -> push(new Py.Str(utf8(u8())));
                case 0x8d -> push(new Py.Str(utf8(le(8))));
                case ']' -> push(new Py.PyList());
                case 0x8f -> push(new Py.PyList());
                case 'l' -> { Py.PyList l = new Py.PyList(); l.items.addAll(popMark()); push(l); }
                case 0x91 -> { Py.PyList l = new Py.PyList(); l.items.addAll(popMark()); push(l); }
                case ')' -> push(new Py.Tuple(List.of()));
                case 't' -> push(new Py.Tuple(popMark()));
                case 0x85 -> push(tupleOf(1));
                case 0x86 -> push(tupleOf(2));
                case 0x87 -> push(tupleOf(3));
                case '}' -> push(new Py.Dict());
                case 'd' -> {
                    List<Py> items = popMark();
                    if (items.size() % 2 != 0) throw bad("DICT with an odd number of items");
                    Py.Dict d = new Py.Dict();
                    for (int i = 0; i < items.size(); i += 2) d.put(items.get(i), items.get(i + 1));
                    push(d);
                }
                case 'a' -> { Py v = pop(); append(top(), List.of(v)); }
                case 'e' -> { List<Py> items = popMark(); append(top(), items); }
                case 0x90 -> { List<Py> items = popMark(); append(top(), items); }
                case 's' -> { Py v = pop(); Py k = pop(); setItems(top(), List.of(k, v)); }
                case 'u' -> {
                    List<Py> items = popMark();
                    if (items.size() % 2 != 0) throw bad("SETITEMS with an odd number of items");
                    setItems(top(), items);
                }
                case 'c' -> { String module = line(); String name = line(); push(new Py.Global(module, name)); }
                case 0x93 -> {
                    Py name = pop();
                    Py module = pop();
                    if (!(module instanceof Py.Str m) || !(name instanceof Py.Str n)) throw bad("STACK_GLOBAL needs two strings");
                    push(new Py.Global(m.value(), n.value()));
                }
                case 'R' -> { Py args = pop(); Py callable = pop(); push(reduce(callable, args)); }
                case 0x81 -> { Py args = pop(); Py cls = pop(); push(reduce(cls, args)); }
                case 0x92 -> { pop(); Py args = pop(); Py cls = pop(); push(reduce(cls, args)); }
                case 'i' -> {
                    String module = line();
                    String name = line();
                    push(new Py.Obj(new Py.Global(module, name), new Py.Tuple(popMark())));
                }
                case 'o' -> {
                    List<Py> items = popMark();
                    if (items.isEmpty()) throw bad("OBJ without a class");
                    push(new Py.Obj(items.get(0), new Py.Tuple(new ArrayList<>(items.subList(1, items.size())))));
                }
                case 'b' -> { Py state = pop(); if (top() instanceof Py.Obj o) o.state = state; }
                case 'p' -> memoPut(parseLong(line()));
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(le(4));
                case 0x94 -> memoPut(memo.size());
                case 'g' -> push(memoGet(parseLong(line())));
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(le(4)));
                case 'P' -> push(persistent(new Py.Str(line())));
                case 'Q' -> push(persistent(pop()));
                default -> {
                    pos--;
                    throw bad(String.format("unsupported opcode 0x%02x", op));
                }
            }
        }
    }

    private Py tupleOf(int n) throws MalformedCheckpoint {
        Py[] items = new Py[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return new Py.Tuple(new ArrayList<>(List.of(items)));
    }

    private Py memoGet(long index) throws MalformedCheckpoint {
        Py v = memo.get(index);
        if (v == null) throw bad("memo index " + index + " was never stored");
        return v;
    }

    private String utf8(long n) throws MalformedCheckpoint {
        need(n);
        String s = new String(buf, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    private Py longBytes(int n) throws MalformedCheckpoint {
        byte[] le = take(n);
        if (n == 0) return new Py.Int(0);
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? new Py.Int(v.longValue()) : new Py.BigInt(v);
    }

    private Py textInt(String s) throws MalformedCheckpoint {
        if (s.equals("01")) return new Py.Bool(true);
        if (s.equals("00")) return new Py.Bool(false);
        try {
            BigInteger v = new BigInteger(s.trim());
            return v.bitLength() < 64 ? new Py.Int(v.longValue()) : new Py.BigInt(v);
        } catch (NumberFormatException e) {
            throw bad("bad integer text");
        }
    }

    /** Python's raw-unicode-escape: latin-1 text with backslash-u and backslash-U escapes. */
    static String rawUnicodeEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int digits = c == '\\' && i + 1 < s.length() ? (s.charAt(i + 1) == 'u' ? 4 : s.charAt(i + 1) == 'U' ? 8 : 0) : 0;
            if (digits > 0 && i + 2 + digits <= s.length()) {
                try {
                    int cp = Integer.parseInt(s.substring(i + 2, i + 2 + digits), 16);
                    if (Character.isValidCodePoint(cp)) {
                        b.appendCodePoint(cp);
                        i += 1 + digits;
                        continue;
                    }
                } catch (NumberFormatException e) {
                    // not an escape: keep the backslash as text
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String stripL(String s) { return s.endsWith("L") ? s.substring(0, s.length() - 1) : s; }

    private long parseLong(String s) throws MalformedCheckpoint {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("bad memo index text");
        }
    }

    private double textFloat(String s) throws MalformedCheckpoint {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw bad("bad float text");
        }
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"')) return s.substring(1, s.length() - 1);
        return s;
    }

    private void append(Py target, List<Py> items) throws MalformedCheckpoint {
        if (target instanceof Py.PyList l) l.items.addAll(items);
        else if (target instanceof Py.Obj o) o.listItems.addAll(items);
        else throw bad("APPEND to a non-list");
    }

    private void setItems(Py target, List<Py> kv) throws MalformedCheckpoint {
        Py.Dict d;
        if (target instanceof Py.Dict x) d = x;
        else if (target instanceof Py.Obj o) d = o.items;
        else throw bad("SETITEM on a non-dict");
        for (int i = 0; i < kv.size(); i += 2) d.put(kv.get(i), kv.get(i + 1));
    }

    private Py reduce(Py callable, Py args) throws MalformedCheckpoint {
        if (callable instanceof Py.Global g && args instanceof Py.Tuple t) {
            List<Py> a = t.items;
            if (g.is("collections", "OrderedDict") || g.is("builtins", "dict") || g.is("__builtin__", "dict")) {
                if (a.isEmpty()) return new Py.Dict();
            }
            if (g.module().equals("torch._utils")) {
                switch (g.name()) {
                    case "_rebuild_tensor", "_rebuild_tensor_v2" -> { return tensor(a); }
                    case "_rebuild_tensor_v3" -> { return tensor(retyped(a)); }
                    case "_rebuild_parameter", "_rebuild_parameter_with_state" -> {
                        if (!a.isEmpty() && a.get(0) instanceof Py.Tensor x) return x;
                    }
                    default -> { }
                }
            }
            if (g.is("torch._tensor", "_rebuild_from_type_v2") && a.size() >= 3 && a.get(0) instanceof Py.Global f
                    && f.module().equals("torch._utils") && f.name().startsWith("_rebuild_tensor")
                    && a.get(2) instanceof Py.Tuple inner) {
                return tensor(inner.items);
            }
        }
        return new Py.Obj(callable, args);
    }

    /**
     * {@code _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, ...)}: the storage is
     * untyped (numel in bytes) and {@code dtype} (e.g. {@code torch.float32}) gives the element type.
     */
    private List<Py> retyped(List<Py> a) throws MalformedCheckpoint {
        if (a.size() < 7 || !(a.get(0) instanceof Py.Storage s) || !(a.get(6) instanceof Py.Global g)) return a;
        StorageType t = StorageType.of(g);
        if (t == null) throw bad("unknown tensor dtype " + g.dotted());
        if (s.elementSize() == t.elementSize() && s.dtype() == t.dtype()) return a;
        long bytes = s.bytes();
        if (bytes % t.elementSize() != 0) throw bad("untyped storage of " + bytes + " bytes does not hold whole " + g.name() + " elements");
        List<Py> r = new ArrayList<>(a);
        r.set(0, new Py.Storage(t.dtype(), t.elementSize(), s.key(), s.location(), bytes / t.elementSize()));
        return r;
    }

    private Py tensor(List<Py> a) throws MalformedCheckpoint {
        if (a.size() < 4 || !(a.get(0) instanceof Py.Storage s) || !(a.get(1) instanceof Py.Int off)
                || !(a.get(2) instanceof Py.Tuple size) || !(a.get(3) instanceof Py.Tuple stride)) {
            throw bad("_rebuild_tensor with unexpected arguments");
        }
        long[] sz = ints(size.items, "size");
        long[] st = ints(stride.items, "stride");
        if (sz.length != st.length) throw bad("tensor size and stride of different rank");
        long offset = off.value();
        if (offset < 0) throw bad("negative storage offset");
        long last = offset;
        boolean empty = false;
        try {
            for (int i = 0; i < sz.length; i++) {
                if (sz[i] < 0) throw bad("negative tensor size");
                if (sz[i] == 0) empty = true;
                if (st[i] < 0) throw bad("negative stride");
                if (sz[i] > 0) last = Math.addExact(last, Math.multiplyExact(sz[i] - 1, st[i]));
            }
        } catch (ArithmeticException e) {
            throw bad("tensor extent overflows");
        }
        if (!empty && last >= s.numel()) throw bad("tensor view exceeds its storage of " + s.numel() + " elements");
        return new Py.Tensor(s, offset, sz, st);
    }

    private long[] ints(List<Py> items, String what) throws MalformedCheckpoint {
        long[] r = new long[items.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(items.get(i) instanceof Py.Int v)) throw bad("non-integer tensor " + what);
            r[i] = v.value();
        }
        return r;
    }

    private Py persistent(Py pid) throws MalformedCheckpoint {
        if (pid instanceof Py.Tuple t && t.items.size() >= 5 && t.items.get(0) instanceof Py.Str tag
                && tag.value().equals("storage")) {
            List<Py> a = t.items;
            if (!(a.get(1) instanceof Py.Global type)) throw bad("storage id without a storage type");
            StorageType st = StorageType.of(type);
            if (st == null) throw bad("unknown storage type " + type.dotted());
            String key = a.get(2) instanceof Py.Str k ? k.value()
                    : a.get(2) instanceof Py.Int k ? Long.toString(k.value()) : null;
            if (key == null) throw bad("storage key is not text");
            String location = a.get(3) instanceof Py.Str l ? l.value() : "";
            if (!(a.get(4) instanceof Py.Int numel) || numel.value() < 0) throw bad("bad storage element count");
            if (a.size() > 5 && !(a.get(5) instanceof Py.None)) throw bad("storage views (legacy view_metadata) are not supported");
            Py.Storage s = new Py.Storage(st.dtype(), st.elementSize(), key, location, numel.value());
            try {
                s.bytes();
            } catch (ArithmeticException e) {
                throw bad("storage size overflows");
            }
            storages.putIfAbsent(key, s);
            return s;
        }
        return new Py.Obj(new Py.Global("<persistent>", "id"), pid);
    }

    /** Storage classes and torch dtypes, by name. */
    record StorageType(DType dtype, int elementSize) {
        static StorageType of(Py.Global g) {
            if (g.is("torch.storage", "UntypedStorage")) return new StorageType(DType.U8, 1);
            if (!g.module().equals("torch")) return null;
            return switch (g.name()) {
                case "FloatStorage", "float32", "float" -> new StorageType(DType.F32, 4);
                case "DoubleStorage", "float64", "double" -> new StorageType(DType.F64, 8);
                case "HalfStorage", "float16", "half" -> new StorageType(DType.F16, 2);
                case "BFloat16Storage", "bfloat16" -> new StorageType(DType.BF16, 2);
                case "LongStorage", "int64", "long" -> new StorageType(DType.I64, 8);
                case "IntStorage", "int32", "int" -> new StorageType(DType.I32, 4);
                case "ShortStorage", "int16", "short" -> new StorageType(DType.I16, 2);
                case "CharStorage", "int8" -> new StorageType(DType.I8, 1);
                case "ByteStorage", "uint8", "UntypedStorage" -> new StorageType(DType.U8, 1);
                case "BoolStorage", "bool" -> new StorageType(DType.BOOL, 1);
                case "ComplexFloatStorage", "complex64", "cfloat" -> new StorageType(DType.OTHER, 8);
                case "ComplexDoubleStorage", "complex128", "cdouble" -> new StorageType(DType.OTHER, 16);
                case "ComplexHalfStorage", "complex32" -> new StorageType(DType.OTHER, 4);
                case "QInt8Storage", "QUInt8Storage", "QUInt4x2Storage", "QUInt2x4Storage", "qint8", "quint8",
                     "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz" -> new StorageType(DType.OTHER, 1);
                case "QInt32Storage", "qint32", "uint32" -> new StorageType(DType.OTHER, 4);
                case "uint16" -> new StorageType(DType.OTHER, 2);
                case "uint64" -> new StorageType(DType.OTHER, 8);
                default -> null;
            };
        }
    }
}
