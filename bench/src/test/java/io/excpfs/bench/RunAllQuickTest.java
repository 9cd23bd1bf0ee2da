package io.excpfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code bench/run_all.sh} in its QUICK mode on an even smaller run (nano GPT, 5 checkpoints, one setting per
 * lossy series, one kernel sample) and checks that every table is produced with sane values, so the one documented
 * benchmark command cannot rot silently. Needs /usr/bin/python3 with torch, zstd, 7z, FUSE, and the project
 * packaged (fs/target/lib, bench/target/classpath.txt), which {@code ./test.sh} does before this module's tests.
 */
@Tag("slow")
class RunAllQuickTest {
    private static final Path ROOT = findRoot();
    @TempDir Path work;

    @AfterEach
    void noMountLeft() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "mount | grep " + work).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        assertEquals("", out.trim(), "mounts left behind under " + work);
    }

    @Test
    void quickModeProducesEveryTableWithSaneValues() throws Exception {
        assumeTrue(Files.isDirectory(ROOT.resolve("fs/target/lib")) && Files.isRegularFile(ROOT.resolve("bench/target/classpath.txt")),
                "project not packaged (mvn -o -q -B -pl fs,bench -am package -DskipTests)");
        assumeTrue(run("/usr/bin/python3", "-c", "import torch, numpy") == 0, "/usr/bin/python3 with torch and numpy missing");
        assumeTrue(run("sh", "-c", "command -v zstd && command -v 7z && command -v fusermount") == 0, "zstd, 7z or fusermount missing");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse missing");

        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bench/run_all.sh").toString()).directory(ROOT.toFile())
                .redirectErrorStream(true).redirectOutput(work.resolve("run_all.log").toFile());
        Map<String, String> env = pb.environment();
        env.putAll(Map.ofEntries(Map.entry("QUICK", "1"), Map.entry("WORK", work.resolve("w").toString()),
                Map.entry("BUILD", "0"), Map.entry("DOCS", "0"), Map.entry("PRESET", "nano"), Map.entry("STEPS", "50"),
                Map.entry("EVERY", "10"), Map.entry("RESUME_STEPS", "5"), Map.entry("ZSTD_LEVEL", "3"),
                Map.entry("REF_ALPHAS", "5e-5"), Map.entry("ALPHAS", "5e-4"), Map.entry("BUDGETS", "1"),
                Map.entry("DEPTHS", "1 2 4"), Map.entry("MOUNT_PRESET", "nano"), Map.entry("MOUNT_REPS", "2"),
                Map.entry("KERNEL_PARTS", "kernels"), Map.entry("KERNEL_CALLS", "1")));
        Process p = pb.start();
        boolean done = p.waitFor(30, TimeUnit.MINUTES);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            run("fusermount", "-u", work.resolve("w/trainer/mnt").toString());
        }
        String log = Files.readString(work.resolve("run_all.log"));
        assertTrue(done, "run_all.sh did not finish within 30 minutes:\n" + tail(log));
        assertEquals(0, p.exitValue(), "run_all.sh failed:\n" + tail(log));

        Path w = work.resolve("w");
        String md = Files.readString(w.resolve("BENCHMARKS-run.md"));
        for (String heading : List.of("### Real trainer", "Rate–quality", "### COLD read latency by chain depth",
                "### Time and memory through the mount", "### Codec kernels", "### Store size and ratio over the run")) {
            assertTrue(md.contains(heading), "missing " + heading + " in\n" + md);
        }
        assertFalse(md.contains("NaN") || md.contains("FAILED") || md.contains("DIFFERS"), md);

        Map<String, JsonNode> rows = rows(w.resolve("trainer/results"));
        JsonNode raw = rows.get("raw");
        assertEquals(1.0, raw.get("ratio").asDouble(), 1e-9);
        assertEquals(5, new ObjectMapper().readTree(w.resolve("trainer/context.json").toFile()).get("checkpoints").asInt());
        for (JsonNode r : rows.values()) {
            // the run through the mount is a second, identical training run: only rng_state.pth (unseeded Python
            // random state) and the output path in training_args.bin differ, by a few bytes
            double tolerance = r.get("family").asText().equals("excpfs mount") ? 1e-4 * raw.get("raw_bytes").asLong() : 0;
            assertEquals(raw.get("raw_bytes").asLong(), r.get("raw_bytes").asLong(), tolerance, r.get("method") + ": not the same files");
            if (r.get("family").asText().equals("raw")) continue;
            double ratio = r.get("residual_ratio").asDouble(), bits = r.get("bits_per_param").asDouble();
            assertTrue(ratio > 1.0 && ratio < 200, r.toString());
            assertTrue(bits > 0 && bits < 96, r.toString());
            assertTrue(r.get("gap").asDouble() >= 0 && r.get("gap").asDouble() < 0.05, r.toString());
            assertTrue(r.get("encode_mbps").asDouble() > 0, r.toString());
        }
        JsonNode lossless = rows.get("excpfs --mode lossless");
        assertEquals(0.0, lossless.get("gap").asDouble());
        assertTrue(lossless.get("notes").asText().contains("export identical"), lossless.toString());
        assertTrue(lossless.get("residual_ratio").asDouble() > rows.get("zstd -3 per file").get("residual_ratio").asDouble(),
                "excpfs lossless should beat zstd per file: " + lossless);
        JsonNode excp = rows.values().stream().filter(r -> r.get("family").asText().equals("excpfs default")).findFirst().orElseThrow();
        assertTrue(excp.get("residual_ratio").asDouble() > 5, "ExCP default residual ratio: " + excp);
        assertTrue(excp.get("gap").asDouble() > 0, "a lossy method resumed exactly? " + excp);
        assertTrue(rows.keySet().stream().anyMatch(k -> k.startsWith("ExCP reference")), rows.keySet().toString());
        assertTrue(rows.keySet().stream().anyMatch(k -> k.startsWith("excpfs mount")), rows.keySet().toString());

        BufferedImage curve = ImageIO.read(w.resolve("rate-quality.png").toFile());
        assertEquals(1000, curve.getWidth());
        assertTrue(ImageIO.read(w.resolve("store-over-run.png").toFile()).getWidth() >= 200);

        List<double[]> depths = numbers(md, Pattern.compile("^\\| (\\d+) \\| `[^`]+` \\| [\\d,]+ \\| ([\\d.]+) s", Pattern.MULTILINE));
        assertTrue(depths.size() >= 2, "chain depth rows:\n" + md);
        for (double[] d : depths) assertTrue(d[1] > 0, "depth " + d[0]);
        List<double[]> kernels = numbers(md, Pattern.compile("^\\| [^|]+ \\| ([\\d.]+) ms \\| (\\d+) \\|", Pattern.MULTILINE));
        assertTrue(kernels.size() >= 10, "kernel rows:\n" + md);
        for (double[] k : kernels) assertTrue(k[1] > 0, "a kernel at 0 MB/s");
    }

    private static Map<String, JsonNode> rows(Path dir) throws IOException {
        Map<String, JsonNode> out = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                JsonNode r = json.readTree(f.toFile());
                out.put(r.get("method").asText().replace("**", ""), r);
            }
        }
        return out;
    }

    private static List<double[]> numbers(String text, Pattern p) {
        List<double[]> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) out.add(new double[]{Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
        return out;
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static String tail(String s) {
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    private static Path findRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("bench/run_all.sh"))) return d;
        }
        throw new IllegalStateException("bench/run_all.sh not found above " + Path.of("").toAbsolutePath());
    }
}
