package io.excpfs.fs.reliability;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A descriptor opened read-only before the file is overwritten in place (open with O_TRUNC, as torch.save does):
 * whatever it reads must be one whole version, the pinned old one (docs/mount.md) or the new one, never a mix.
 */
@Tag("slow")
class PinnedReaderTest extends DaemonTest {

    @Test
    @Disabled("finding (docs/reliability.md): the reader gets the new version's cached pages and its pinned old "
            + "version's bytes past them; needs a decision in fs/mount (follow in-place overwrites, as POSIX does)")
    void aReaderOpenDuringAnInPlaceOverwriteSeesOneWholeVersion() throws Exception {
        byte[] v1 = LoadTest.random(1, 300_000), v2 = LoadTest.random(2, 600_000);
        try (Daemon d = Daemon.start(store, mnt, log, "")) {
            Path p = mnt.resolve("ckpt.pt");
            Files.write(p, v1);
            byte[] got;
            try (FileChannel reader = FileChannel.open(p, StandardOpenOption.READ)) {
                ByteBuffer head = ByteBuffer.allocate(4096);
                reader.read(head, 0);
                Files.write(p, v2);
                ByteBuffer all = ByteBuffer.allocate(v2.length + 10);
                long pos = 0;
                int n;
                while ((n = reader.read(all, pos)) > 0) pos += n;
                got = Arrays.copyOf(all.array(), all.position());
            }
            String what = Arrays.equals(got, v1) ? "the old version" : Arrays.equals(got, v2) ? "the new version"
                    : "a mix: " + got.length + " bytes, first difference from the old version at "
                    + Arrays.mismatch(got, v1) + ", from the new at " + Arrays.mismatch(got, v2);
            System.out.println("PinnedReaderTest: the reader saw " + what);
            assertTrue(Arrays.equals(got, v1) || Arrays.equals(got, v2), "the reader saw " + what);
            d.unmount();
        }
    }
}
