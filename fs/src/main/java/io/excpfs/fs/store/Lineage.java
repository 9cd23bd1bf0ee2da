package io.excpfs.fs.store;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lineage keys and step numbers from paths. Versions of one lineage follow one another: the same path overwritten
 * ({@code ckpt.pt}), or the path with its step numbers abstracted ({@code checkpoint-*}{@code /model.safetensors},
 * {@code epoch=*-step=*.ckpt}). Only path components that name a checkpoint step (they contain {@code checkpoint},
 * {@code ckpt}, {@code step}, {@code iter} or {@code epoch}) have their numbers abstracted, so {@code run1/ckpt.pt}
 * and {@code run2/ckpt.pt} stay apart; shard and rank numbers ({@code model-00001-of-00002},
 * {@code mp_rank_00}) are part of the name. When unsure, paths stay apart: a version without a predecessor is a
 * seed, which costs space but never quality.
 */
final class Lineage {
    private static final Pattern PROTECTED = Pattern.compile("(?i)\\d+-of-\\d+|(?:mp_rank|rank|shard|part|tp|pp|dp|world)[_-]?\\d+");
    private static final Pattern DIGITS = Pattern.compile("\\d+");
    private static final Pattern STEP_WORD = Pattern.compile("(?i)checkpoint|ckpt|step|iter|epoch");
    private static final Pattern NAMED_STEP = Pattern.compile("(?i)(?:step|iter|global_step|it)[=_-]?(\\d+)");

    private Lineage() {}

    /** The lineage key of a path ("/a/checkpoint-500/model.safetensors" → "/a/checkpoint-*{@literal /}model.safetensors"). */
    static String key(String path) {
        StringBuilder out = new StringBuilder(path.length());
        String[] parts = path.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) out.append('/');
            if (STEP_WORD.matcher(parts[i]).find()) abstractComponent(parts[i], out);
            else out.append(parts[i]);
        }
        return out.toString();
    }

    private static void abstractComponent(String c, StringBuilder out) {
        Matcher keep = PROTECTED.matcher(c);
        int pos = 0;
        while (keep.find()) {
            out.append(DIGITS.matcher(c.substring(pos, keep.start())).replaceAll("*"));
            out.append(keep.group());
            pos = keep.end();
        }
        out.append(DIGITS.matcher(c.substring(pos)).replaceAll("*"));
    }

    /** The training step a path names: the number after "step"/"iter" if any, else the last number outside shard
     * markers, else -1. */
    static long step(String path) {
        Matcher named = NAMED_STEP.matcher(path);
        long found = -1;
        while (named.find()) found = parse(named.group(1));
        if (found >= 0) return found;
        String noShard = PROTECTED.matcher(path).replaceAll("");
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
