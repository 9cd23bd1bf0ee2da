package io.excpfs.fs.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.excpfs.fs.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real trainer end to end: a ~0.8M-parameter GPT (bench/python/tinygpt.py) is trained with torch in each trainer
 * layout, the run is imported ({@code --hot 1}: all but the newest version of each file COLD), exported, and the export is checked the way
 * a user would: every file has its original size, files that are not tensor payload come back byte for byte, every
 * checkpoint loads with the trainer's own code (torch.load, our safetensors reader, load_state_dict, zip CRCs), and
 * training resumed from an exported mid-run checkpoint follows the run resumed from the original checkpoint on the
 * same batches within 1% mean relative loss.
 */
@Tag("slow")
class RealTrainerTest {
  private static final String PYTHON = "/usr/bin/python3";
  private static final int STEPS = 40;
  private static final int EVERY = 10;
  private static final int RESUME_STEPS = 20;
  private static final double MAX_GAP = 0.01;
  private static final Set<String> NON_CHECKPOINT_FILES =
      Set.of("trainer_state.json", "rng_state.pth", "scheduler.pt", "training_args.bin", "config.json");

  private static Path scripts;

  @BeforeAll
  static void requirements() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is missing");
    assumeTrue(run(List.of(PYTHON, "-c", "import torch, numpy"), Path.of(".")).exitCode == 0,
        PYTHON + " cannot import torch and numpy");
    scripts = findScripts();
  }

  @ParameterizedTest
  @ValueSource(strings = {"hf", "nanogpt", "lightning"})
  void importedColdRunResumesLikeTheOriginal(String layout, @TempDir Path tmp) throws Exception {
    Path runDir = tmp.resolve("run");
    Path store = tmp.resolve("store");
    Path exported = tmp.resolve("export");
    python(tmp, "train.py", "--layout", layout, "--preset", "tiny", "--out", runDir.toString(),
        "--steps", String.valueOf(STEPS), "--every", String.valueOf(EVERY), "--keep-steps");

    assertCli("import", cli("import", runDir.toString(), store.toString(), "--hot", "0"));
    List<String> units = checkpointUnits(tmp, layout, runDir);
    String mid = units.get(units.size() / 2);
    Cli stats = cli("stats", store.toString(), "--json");
    assertCli("stats", stats);
    assertColdResiduals(stats.out, mid);
    assertCli("export", cli("export", store.toString(), exported.toString()));

    assertSameTree(runDir, exported);
    python(tmp, "load_check.py", "--layout", layout, "--run", exported.toString());

    Path fromOriginal = tmp.resolve("resume-original.json");
    Path fromExport = tmp.resolve("resume-export.json");
    python(tmp, "resume.py", "--layout", layout, "--ckpt", runDir.resolve(mid).toString(),
        "--steps", String.valueOf(RESUME_STEPS), "--out", fromOriginal.toString());
    python(tmp, "resume.py", "--layout", layout, "--ckpt", exported.resolve(mid).toString(),
        "--steps", String.valueOf(RESUME_STEPS), "--out", fromExport.toString());
    JsonNode gap = new ObjectMapper().readTree(
        python(tmp, "gap.py", fromExport.toString(), fromOriginal.toString()));
    assertEquals(RESUME_STEPS, gap.get("steps").asInt());
    assertTrue(gap.get("gap").asDouble() <= MAX_GAP,
        layout + ": resuming from exported " + mid + " drifts by " + gap + " (> " + MAX_GAP + ")");
  }

  /** The store holds residual versions, and every file of the checkpoint to resume from is COLD. */
  private static void assertColdResiduals(String statsJson, String unit) throws IOException {
    JsonNode versions = new ObjectMapper().readTree(statsJson).get("versions");
    assertTrue(versions != null && versions.isArray(), "stats --json has no versions array: " + statsJson);
    long residual = 0;
    long inUnit = 0;
    for (JsonNode v : versions) {
      String kind = v.get("kind").asText();
      if ("residual".equals(kind)) {
        residual++;
      }
      String path = v.get("path").asText();
      if (path.equals("/" + unit) || path.startsWith("/" + unit + "/")) {
        inUnit++;
        assertTrue(!"hot".equals(kind), "the checkpoint to resume from is still HOT: " + v);
      }
    }
    assertTrue(residual > 0, "no residual versions after import: " + statsJson);
    assertTrue(inUnit > 0, "stats lists no version of " + unit + ": " + statsJson);
  }

  private static void assertSameTree(Path original, Path exported) throws IOException {
    Set<String> want = relativeFiles(original);
    assertEquals(want, relativeFiles(exported), "exported tree differs from the run directory");
    for (String rel : want) {
      Path a = original.resolve(rel);
      Path b = exported.resolve(rel);
      assertEquals(Files.size(a), Files.size(b), rel + ": exported size differs");
      if (NON_CHECKPOINT_FILES.contains(a.getFileName().toString())) {
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), rel + ": not byte-identical");
      }
    }
  }

  private static Set<String> relativeFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      Set<String> out = new TreeSet<>();
      s.filter(Files::isRegularFile).forEach(p -> out.add(root.relativize(p).toString()));
      return out;
    }
  }

  private static List<String> checkpointUnits(Path tmp, String layout, Path runDir) throws Exception {
    String code = "import sys; sys.path.insert(0, sys.argv[1]); import checkpoints; "
        + "print('\\n'.join(checkpoints.find(sys.argv[2], sys.argv[3])))";
    Proc p = run(List.of(PYTHON, "-c", code, scripts.toString(), layout, runDir.toString()), tmp);
    assertEquals(0, p.exitCode, p.output);
    List<String> units = new ArrayList<>(p.output.strip().lines().toList());
    assertTrue(units.size() >= 3, "expected at least 3 checkpoints, got " + units);
    return units;
  }

  private static String python(Path workDir, String script, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, scripts.resolve(script).toString()));
    cmd.addAll(List.of(args));
    Proc p = run(cmd, workDir);
    if (p.exitCode != 0) {
      fail(String.join(" ", cmd) + " exited " + p.exitCode + ":\n" + p.output);
    }
    return p.stdout;
  }

  private record Proc(int exitCode, String stdout, String output) {}

  private static Proc run(List<String> cmd, Path workDir) throws Exception {
    Path out = Files.createTempFile("trainer-out", ".txt");
    Path err = Files.createTempFile("trainer-err", ".txt");
    try {
      Process p = new ProcessBuilder(cmd).directory(workDir.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(15, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        fail(String.join(" ", cmd) + " did not finish within 15 minutes");
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      return new Proc(p.exitValue(), stdout, stdout + Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private record Cli(int exitCode, String out, String err) {}

  /** Runs the excpfs CLI in-process with its own output streams. */
  private static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }

  private static void assertCli(String what, Cli result) {
    assertEquals(0, result.exitCode, what + " failed: " + result.err + result.out);
  }

  private static Path findScripts() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("bench/python/train.py");
      if (Files.isRegularFile(candidate)) {
        return candidate.getParent();
      }
    }
    throw new IllegalStateException("bench/python/train.py not found above " + Path.of("").toAbsolutePath());
  }
}
