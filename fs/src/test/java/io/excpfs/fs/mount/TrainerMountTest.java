package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.fuse.MountFixture;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real (tiny) HF-Trainer-layout training run writes its checkpoints into the mount, rotating them with rmtree;
 * the same run writes into a plain directory. The newest checkpoint is byte-identical and resumes to the same
 * losses; an older checkpoint, demoted to COLD, still loads with the trainer's own code and resumes.
 */
@Tag("slow")
class TrainerMountTest {
    private static final Path BENCH = Path.of(System.getProperty("user.dir")).getParent().resolve("bench/python");

    @TempDir Path tmp;
    StoreFileSystem fs;
    FuseMount mount;
    Path mnt;

    @BeforeEach
    void mountIt() throws IOException {
        MountFixture.assumeFuse();
        assumeTrue(MountFixture.hasTorch(), "/usr/bin/python3 with torch missing");
        assumeTrue(Files.isRegularFile(BENCH.resolve("train.py")), "bench/python/train.py missing");
        fs = new StoreFileSystem(Store.open(tmp.resolve("store"), StoreOptions.defaults()));
        mnt = tmp.resolve("mnt");
        mount = MountFixture.mount(fs, mnt);
    }

    @AfterEach
    void unmountIt() {
        try {
            MountFixture.unmount(mount);
        } finally {
            if (fs != null) fs.close();
        }
    }

    private String python(String script, String... args) throws IOException {
        String[] cmd = new String[2 + args.length];
        cmd[0] = "/usr/bin/python3";
        cmd[1] = script;
        System.arraycopy(args, 0, cmd, 2, args.length);
        return ok(BENCH, cmd).strip();
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String lastLine(String out) {
        String[] lines = out.split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void hfRunThroughTheMountResumesLikeThePlainRun() throws Exception {
        String[] train = {"--layout", "hf", "--steps", "12", "--every", "4", "--save-total-limit", "2"};
        python("train.py", concat(train, "--out", mnt.resolve("run").toString()));
        python("train.py", concat(train, "--out", tmp.resolve("plain").toString()));
        assertEquals(List.of("checkpoint-12", "checkpoint-8"), names(mnt.resolve("run")));
        assertEquals(names(tmp.resolve("plain/checkpoint-12")), names(mnt.resolve("run/checkpoint-12")));
        for (String f : List.of("model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json", "config.json")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("plain/checkpoint-12").resolve(f)),
                    Files.readAllBytes(mnt.resolve("run/checkpoint-12").resolve(f)), f + " of the newest checkpoint");
        }
        assertEquals(List.of("checkpoint-4"), names(mnt.resolve(".excp/history/run")), "rotated out by rmtree");

        fs.flushAll();
        String state = new String(fs.getxattr("/run/checkpoint-8/optimizer.pt", "user.excp.state"), StandardCharsets.UTF_8);
        String kind = new String(fs.getxattr("/run/checkpoint-8/optimizer.pt", "user.excp.kind"), StandardCharsets.UTF_8);

        String newestMount = lastLine(python("resume.py", "--layout", "hf", "--steps", "3", "--ckpt",
                mnt.resolve("run/checkpoint-12").toString()));
        String newestPlain = lastLine(python("resume.py", "--layout", "hf", "--steps", "3", "--ckpt",
                tmp.resolve("plain/checkpoint-12").toString()));
        assertEquals(newestPlain.replace(tmp.resolve("plain").toString(), ""),
                newestMount.replace(mnt.resolve("run").toString(), ""), "HOT newest checkpoint resumes exactly");

        String older = lastLine(python("resume.py", "--layout", "hf", "--steps", "3", "--ckpt",
                mnt.resolve("run/checkpoint-8").toString()));
        assertTrue(older.contains("\"start_step\": 8"), older);
        assertEquals("cold", state, "the older checkpoint was demoted (kind " + kind + ")");
        System.out.println("older checkpoint-8 through the mount (" + state + ", " + kind + "): " + older);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
