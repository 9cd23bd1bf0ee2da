package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import io.excpfs.fs.store.Damage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One bit flipped in each kind of stored file: {@code excpfs verify} exits non-zero naming the damaged object, and a
 * read of the affected file through the mount fails with EIO instead of returning wrong bytes.
 */
@Tag("slow")
class ChecksumTest extends DaemonTest {
    byte[] hot, ckpt1, ckpt2;

    @BeforeEach
    void fill() throws Exception {
        hot = new byte[300_000];
        new Random(1).nextBytes(hot);
        ckpt1 = Checkpoints.safetensors(3, 1, 256, 256);
        ckpt2 = Checkpoints.safetensors(3, 2, 256, 256);
        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            Files.write(mnt.resolve("data.bin"), hot);
            Files.createDirectories(mnt.resolve("run/checkpoint-1"));
            Files.createDirectories(mnt.resolve("run/checkpoint-2"));
            Files.write(mnt.resolve("run/checkpoint-1/model.safetensors"), ckpt1);
            Files.write(mnt.resolve("run/checkpoint-2/model.safetensors"), ckpt2);
            MountFixture.ok(mnt, "sh", "-c", "echo > .excp/flush");
            assertEquals("cold", DaemonCrashTest.state(mnt.resolve("run/checkpoint-1/model.safetensors")));
            d.unmount();
        }
        assertEquals(0, Daemon.verify(store, true).exitCode(), "the undamaged store verifies");
    }


    /** The kinds of stored file, with the file a user reads to reach each. */
    enum Target {
        HOT_RAW("data.bin", ".raw"),
        HOT_SUM("data.bin", ".sum"),
        COLD_OBJECT("run/checkpoint-1/model.safetensors", ".excp"),
        DATABASE(null, null);

        final String userPath, suffix;

        Target(String userPath, String suffix) {
            this.userPath = userPath;
            this.suffix = suffix;
        }
    }

    @ParameterizedTest
    @EnumSource(Target.class)
    void aFlippedBitIsReportedAndNeverReturned(Target target) throws Exception {
        Path file;
        String name;
        if (target == Target.DATABASE) {
            file = store.resolve("excpfs.db");
            name = "excpfs.db";
        } else {
            String object = objectOf("/" + target.userPath);
            file = store.resolve("objects").resolve(object.substring(0, 2)).resolve(object + target.suffix);
            if (!Files.exists(file)) {
                try (Stream<Path> s = Files.walk(store.resolve("objects"))) {
                    file = s.filter(p -> p.getFileName().toString().startsWith(object) && p.toString().endsWith(target.suffix))
                            .findFirst().orElseThrow(() -> new AssertionError("no " + target.suffix + " file for object " + object));
                }
            }
            name = object;
        }
        long at = Damage.flipBit(file, target == Target.DATABASE ? databasePageHeader(file) : Files.size(file) / 2);

        Daemon.Verdict v = Daemon.verify(store, true);
        System.out.println("ChecksumTest " + target + ": bit 4 flipped at " + at + " of " + file.getFileName()
                + "; verify exit " + v.exitCode() + ": " + v.output().strip().replace("\n", " | "));
        assertNotEquals(0, v.exitCode(), "verify passed a store with a bit flipped in " + file + " at " + at + ":\n" + v.output());
        assertTrue(v.output().contains(name) || target.userPath != null && v.output().contains(target.userPath),
                "verify names " + name + ":\n" + v.output());
        if (target == Target.DATABASE) return;

        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            Path p = mnt.resolve(target.userPath);
            byte[] expected = target == Target.HOT_RAW || target == Target.HOT_SUM ? hot : ckpt1;
            try {
                byte[] got = Files.readAllBytes(p);
                fail("read of " + target.userPath + " returned " + got.length + " bytes"
                        + (Arrays.equals(got, expected) ? " (the right ones)" : " (WRONG ones)") + " instead of EIO");
            } catch (IOException e) {
                assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), "EIO expected: " + e);
            }
            assertArrayEquals(ckpt2, Files.readAllBytes(mnt.resolve("run/checkpoint-2/model.safetensors")),
                    "an undamaged file still reads");
            d.unmount();
        }
        assertTrue(Files.readString(log).contains(target.userPath), "the daemon log names the file:\n" + Daemon.tail(log));
    }

    private String objectOf(String path) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.resolve("excpfs.db"));
             var st = c.prepareStatement("select object from versions where path = ? and status = 'LIVE'")) {
            st.setString(1, path);
            try (ResultSet rs = st.executeQuery()) {
                assertTrue(rs.next(), "no live version of " + path);
                return rs.getString(1);
            }
        }
    }

    /** Offset of the page-type byte of the database's second page (a b-tree page of some table or index). */
    private static long databasePageHeader(Path db) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "r")) {
            f.seek(16);
            int pageSize = f.readUnsignedShort();
            return pageSize == 1 ? 65536 : pageSize;
        }
    }
}
