package io.excpfs.codec.format;

import io.excpfs.codec.DType;
import io.excpfs.codec.Role;

import java.math.BigDecimal;

/** The key-path convention shared by formats, pairing and codec: provisional roles and rendering of leaves. */
final class KeyPaths {
    private KeyPaths() {}

    /**
     * Role of a tensor from its key path: last segment {@code exp_avg} / {@code exp_avg_sq} are Adam moments, other
     * float tensors under an optimizer state subtree ({@code .../state/<n>/<name>}) and float scalars are
     * {@link Role#OTHER_FLOAT}, other float tensors are parameters, everything else {@link Role#NON_FLOAT}.
     */
    static Role role(String keyPath, DType dtype, long elements) {
        if (!dtype.isFloat()) return Role.NON_FLOAT;
        String[] seg = keyPath.split("/", -1);
        String last = seg[seg.length - 1];
        if (last.equals("exp_avg")) return Role.EXP_AVG;
        if (last.equals("exp_avg_sq")) return Role.EXP_AVG_SQ;
        if (seg.length >= 3 && seg[seg.length - 3].equals("state") && isDecimal(seg[seg.length - 2])) return Role.OTHER_FLOAT;
        return elements >= 2 ? Role.PARAM : Role.OTHER_FLOAT;
    }

    static boolean isDecimal(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return true;
    }

    static String child(String parent, String segment) {
        return parent.isEmpty() ? segment : parent + "/" + segment;
    }

    /** A float as Python's {@code repr} writes it: {@code 0.1}, {@code 1e-05}, {@code 3.0}. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exp = bd.precision() - bd.scale() - 1;
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 16) {
            String digits = bd.unscaledValue().abs().toString();
            String mant = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
            int a = Math.abs(exp);
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
        }
        String s = bd.abs().toPlainString();
        return sign + (s.contains(".") ? s : s + ".0");
    }
}
