package io.excpfs.fs.store;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lineage keys and step numbers from paths. Versions of one lineage follow one another: the same path overwritten
 * ({@code ckpt.pt}), or the path with its step numbers abstracted ({@code checkpoint-*}{@code /model.safetensors},
 * {@code epoch=*-step=*.ckpt}). Shard numbers ({@code model-00001-of-00002}) are part of the name, not steps.
 */
final class Lineage {
    private static final Pattern SHARD = Pattern.compile("\\d+-of-\\d+");
    private static final Pattern DIGITS = Pattern.compile("\\d+");
    private static final Pattern NAMED_STEP = Pattern.compile("(?i)(?:step|iter|global_step|it)[=_-]?(\\d+)");

    private Lineage() {}

    /** The lineage key of a path ("/a/checkpoint-500/model.safetensors" → "/a/checkpoint-*{@literal /}model.safetensors"). */
    static String key(String path) {
        StringBuilder out = new StringBuilder(path.length());
        Matcher shard = SHARD.matcher(path);
        int pos = 0;
        while (shard.find()) {
            abstractDigits(path.substring(pos, shard.start()), out);
            out.append(shard.group());
            pos = shard.end();
        }
        abstractDigits(path.substring(pos), out);
        return out.toString();
    }

    private static void abstractDigits(String s, StringBuilder out) {
        out.append(DIGITS.matcher(s).replaceAll("*"));
    }

    /** The training step a path names: the number after "step"/"iter" if any, else the last number outside shard
     * markers, else -1. */
    static long step(String path) {
        Matcher named = NAMED_STEP.matcher(path);
        long found = -1;
        while (named.find()) found = parse(named.group(1));
        if (found >= 0) return found;
        String noShard = SHARD.matcher(path).replaceAll("");
        int slash = noShard.lastIndexOf('/');
        String name = noShard.substring(slash + 1);
        Matcher d = DIGITS.matcher(name);
        while (d.find()) found = parse(d.group());
        if (found >= 0) return found;
        d = DIGITS.matcher(noShard);
        while (d.find()) found = parse(d.group());
        return found;
    }

    private static long parse(String digits) {
        if (digits.length() > 18) return -1;
        return Long.parseLong(digits);
    }
}
