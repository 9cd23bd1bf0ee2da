package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real (tiny) training runs write their checkpoints into the mount in the three layouts trainers use, and the same
 * runs write into a plain directory: HF Trainer {@code checkpoint-N/} directories rotated by rmtree, nanoGPT's
 * {@code ckpt.pt} overwritten in place, Lightning {@code .ckpt} files. The newest (HOT) checkpoint is
 * byte-identical to the plain one and resumes to the same losses; an older checkpoint, demoted to COLD, loads
 * with the layout's own loading code and resumes within 1% mean relative loss of resuming from the plain copy.
 */
@Tag("slow")
class TrainerMountTest extends MountedStoreTest {
    private static final Path BENCH = Path.of(System.getProperty("user.dir")).getParent().resolve("bench/python");
    /**
     * Past the learning-rate warm-up (20 steps): ExCP residuals of the first steps are far larger (BENCHMARKS.md,
     * "Real trainer": 8-9% gap resuming at step 30, 0.79% at step 100).
     */
    private static final int STEPS = 120, EVERY = 20, COLD_STEP = 100;
    private static final int RESUME_STEPS = 10;
    private static final double MAX_GAP = 0.01;

    @Override
    void assumeReady() {
        assumeTrue(MountFixture.hasTorch(), "/usr/bin/python3 with torch missing");
        assumeTrue(Files.isRegularFile(BENCH.resolve("train.py")), "bench/python/train.py missing");
    }

    private static String python(String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script));
        cmd.addAll(List.of(args));
        return ok(BENCH, cmd.toArray(String[]::new)).strip();
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Trains into {@code base/run} through the same path {@code tmp/out/run} ({@code tmp/out} a symlink to
     * {@code base}): checkpoints record their output directory, so the mount run and the plain run write equal bytes.
     */
    private void train(String layout, Path base, String... extra) throws IOException {
        Path link = tmp.resolve("out");
        Files.createDirectories(base);
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, base);
        List<String> args = new ArrayList<>(List.of("--layout", layout, "--steps", Integer.toString(STEPS), "--every", Integer.toString(EVERY),
                "--out", link.resolve("run").toString()));
        args.addAll(List.of(extra));
        python("train.py", args.toArray(String[]::new));
    }

    /** Resumes {@code ckpt} with the layout's loader for {@link #RESUME_STEPS} steps; returns the losses file. */
    private Path resume(String layout, Path ckpt, String name) throws IOException {
        Path out = tmp.resolve(name + ".json");
        python("resume.py", "--layout", layout, "--steps", Integer.toString(RESUME_STEPS), "--ckpt", ckpt.toString(),
                "--out", out.toString());
        return out;
    }

    private static String losses(Path resumed) throws IOException {
        String json = Files.readString(resumed);
        Matcher m = Pattern.compile("\"start_step\": (\\d+), \"losses\": (\\[[^]]*])").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1) + " " + m.group(2);
    }

    /** Mean relative loss gap of a resume against the reference resume (bench/python/gap.py). */
    private static double gap(Path candidate, Path reference) throws IOException {
        String out = python("gap.py", candidate.toString(), reference.toString());
        Matcher m = Pattern.compile("\"gap\": ([0-9.eE+-]+), \"steps\": (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(RESUME_STEPS, Integer.parseInt(m.group(2)), out);
        return Double.parseDouble(m.group(1));
    }

    private String xattr(String path, String name) throws Exception {
        return new String(fs.getxattr(path, name), StandardCharsets.UTF_8);
    }

    /** COLD {@code mounted} resumes like {@code plain}: same start step and a mean relative loss gap ≤ 1%. */
    private void assertColdResumes(String layout, String storePath, Path mounted, Path plain, String label)
            throws Exception {
        assertEquals("cold", xattr(storePath, "user.excp.state"), storePath + " was demoted");
        String kind = xattr(storePath, "user.excp.kind");
        Path cold = resume(layout, mounted, label + "-cold");
        Path ref = resume(layout, plain, label + "-plain");
        String coldLosses = losses(cold), refLosses = losses(ref);
        assertEquals(refLosses.split(" ")[0], coldLosses.split(" ")[0], "start step");
        double g = gap(cold, ref);
        System.out.printf("%s: COLD %s (%s) resumes with mean relative loss gap %.3e over %d steps%n  cold  %s%n"
                + "  plain %s%n", layout, storePath, kind, g, RESUME_STEPS, coldLosses, refLosses);
        assertTrue(g <= MAX_GAP, layout + " COLD resume gap " + g + " > " + MAX_GAP);
    }

    private void assertHotResumesExactly(String layout, Path mounted, Path plain, String label) throws IOException {
        assertEquals(losses(resume(layout, plain, label + "-hot-plain")), losses(resume(layout, mounted, label + "-hot")),
                "HOT newest checkpoint resumes exactly");
    }

    @Test
    void hfRunThroughTheMountResumesLikeThePlainRun() throws Exception {
        train("hf", mnt, "--save-total-limit", "2");
        train("hf", tmp.resolve("plain"), "--save-total-limit", "2");
        assertEquals(List.of("checkpoint-100", "checkpoint-120"), names(mnt.resolve("run")));
        Path newest = tmp.resolve("plain/run/checkpoint-120");
        assertEquals(names(newest), names(mnt.resolve("run/checkpoint-120")));
        for (String f : names(newest)) {
            if (f.equals("rng_state.pth")) continue; // holds Python's random state, seeded from urandom per process
            assertArrayEquals(Files.readAllBytes(newest.resolve(f)),
                    Files.readAllBytes(mnt.resolve("run/checkpoint-120").resolve(f)), f + " of the newest checkpoint");
        }
        assertEquals(List.of("checkpoint-20", "checkpoint-40", "checkpoint-60", "checkpoint-80"),
                names(mnt.resolve(".excp/history/run")), "rotated out by rmtree");

        fs.flushAll();
        assertHotResumesExactly("hf", mnt.resolve("run/checkpoint-120"), newest, "hf");
        assertEquals("cold", xattr("/run/checkpoint-100/model.safetensors", "user.excp.state"));
        assertColdResumes("hf", "/run/checkpoint-100/optimizer.pt", mnt.resolve("run/checkpoint-100"),
                tmp.resolve("plain/run/checkpoint-100"), "hf");
    }

    @Test
    void nanoGptCkptOverwrittenInPlaceKeepsEveryVersionInHistory() throws Exception {
        train("nanogpt", mnt, "--keep-steps");
        train("nanogpt", tmp.resolve("plain"), "--keep-steps");
        Path plain = tmp.resolve("plain/run");
        List<String> steps = new ArrayList<>(List.of("ckpt.pt"));
        for (int s = EVERY; s <= STEPS; s += EVERY) steps.add("step-" + s);
        assertEquals(steps.stream().sorted().toList(), names(mnt.resolve("run")));
        assertArrayEquals(Files.readAllBytes(plain.resolve("ckpt.pt")), Files.readAllBytes(mnt.resolve("run/ckpt.pt")),
                "HOT newest ckpt.pt is byte-identical");

        List<String> history = names(mnt.resolve(".excp/history/run"));
        assertEquals(STEPS / EVERY - 1, history.size(), "every overwritten ckpt.pt version is listed: " + history);
        for (String h : history) assertTrue(h.matches("ckpt\\.pt@\\d+"), h);
        List<String> byVersion = history.stream()
                .sorted((a, b) -> Long.compare(version(a), version(b))).toList();

        fs.flushAll();
        for (int i = 0; i < byVersion.size(); i++) {
            Path version = mnt.resolve(".excp/history/run").resolve(byVersion.get(i));
            assertEquals(Files.size(plain.resolve("step-" + EVERY * (i + 1) + "/ckpt.pt")), Files.size(version),
                    version + " keeps its original size");
        }
        String cold = "/.excp/history/run/" + byVersion.get(COLD_STEP / EVERY - 1);
        assertColdResumes("nanogpt", cold, mnt.resolve(cold.substring(1)),
                plain.resolve("step-" + COLD_STEP + "/ckpt.pt"), "nanogpt");
    }

    private static long version(String historyName) {
        return Long.parseLong(historyName.substring(historyName.lastIndexOf('@') + 1));
    }

    @Test
    void lightningCheckpointsResumeFromColdAndHot() throws Exception {
        train("lightning", mnt);
        train("lightning", tmp.resolve("plain"));
        Path dir = mnt.resolve("run/checkpoints"), plain = tmp.resolve("plain/run/checkpoints");
        List<String> ckpts = new ArrayList<>();
        for (int s = EVERY; s <= STEPS; s += EVERY) ckpts.add("epoch=" + (s - 1) / 50 + "-step=" + s + ".ckpt");
        ckpts.sort(null);
        assertEquals(ckpts, names(dir));
        assertEquals(ckpts, names(plain));
        String newest = "epoch=2-step=120.ckpt", cold = "epoch=1-step=" + COLD_STEP + ".ckpt";
        assertArrayEquals(Files.readAllBytes(plain.resolve(newest)), Files.readAllBytes(dir.resolve(newest)),
                "HOT newest .ckpt is byte-identical");

        fs.flushAll();
        assertEquals("hot", xattr("/run/checkpoints/" + newest, "user.excp.state"));
        assertColdResumes("lightning", "/run/checkpoints/" + cold, dir.resolve(cold), plain.resolve(cold), "lightning");
    }
}
