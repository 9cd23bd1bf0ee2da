package io.excpfs.fs.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;

import static io.excpfs.fs.store.StoreTest.random;
import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Idle demotion through the store, with {@link LossyTestCodec}: nothing calls flush; the planner's own timer must
 * notice that a lineage went idle. Waits are for an event with a generous limit, never assertions on time.
 */
class IdleDemotionTest {
    @TempDir Path tmp;
    final LossyTestCodec codec = new LossyTestCodec();

    Store open(String options) throws Exception { return Store.open(tmp.resolve("store"), StoreOptions.parse(options), codec); }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 600 && !done.getAsBoolean(); i++) Thread.sleep(50);
        assertTrue(done.getAsBoolean(), what);
    }

    static VersionState state(Store s, long id) {
        try {
            return s.version(id).state();
        } catch (io.excpfs.fs.ops.FsException e) {
            throw new AssertionError(e);
        }
    }

    @Test void anIdleLineageHasItsNewestVersionDemotedWithoutAFlush() throws Exception {
        byte[] a = random(20_000, 1), b = random(20_000, 2);
        try (Store s = open("hot=1,idle=300ms")) {
            write(s, "/ckpt.pt", a);
            VersionInfo v2 = write(s, "/ckpt.pt", b);
            await("the newest version of an idle lineage becomes COLD", () -> state(s, v2.id()) == VersionState.COLD);
            List<VersionInfo> h = s.history("/ckpt.pt");
            assertEquals(List.of("seed", "residual"), h.stream().map(VersionInfo::kind).toList());
            assertArrayEquals(LossyTestCodec.lossy(b), StoreTest.read(s, "/ckpt.pt"));
            assertEquals(List.of(), s.verify(true));
        }
    }

    @Test void anOpenVersionKeepsItsLineageBusy() throws Exception {
        try (Store s = open("hot=1,idle=200ms")) {
            VersionInfo v = write(s, "/ckpt.pt", random(20_000, 3));
            try (VersionView open = s.openCurrent("/ckpt.pt")) {
                Thread.sleep(800);
                s.flush();
                assertEquals(VersionState.HOT, state(s, v.id()), "open for reading: not idle, and a flush does not demote under hot=1");
            }
            await("closed and idle: demoted", () -> state(s, v.id()) == VersionState.COLD);
        }
    }

    @Test void withoutIdleTheNewestStaysExact() throws Exception {
        try (Store s = open("hot=1")) {
            VersionInfo v = write(s, "/ckpt.pt", random(20_000, 4));
            Thread.sleep(300);
            s.flush();
            assertEquals(VersionState.HOT, state(s, v.id()));
        }
    }

    /**
     * hot=0 used to encode a checkpoint directory's files one by one as they were sealed, so parameters lost their
     * moments; the newest version now waits until its lineage is idle, and the set is encoded whole.
     */
    @Test void hotZeroWaitsForTheWholeCheckpointSet() throws Exception {
        try (Store s = open("hot=0,idle=400ms")) {
            s.mkdir("/run", 0755, 0, 0);
            for (int step : new int[]{10, 20}) {
                s.mkdir("/run/checkpoint-" + step, 0755, 0, 0);
                write(s, "/run/checkpoint-" + step + "/model.bin", random(5000, step));
                Thread.sleep(100);
                write(s, "/run/checkpoint-" + step + "/optimizer.bin", random(9000, step + 1));
            }
            await("every version COLD", () -> {
                try {
                    return s.versions().stream().allMatch(v -> v.state() == VersionState.COLD);
                } catch (io.excpfs.fs.ops.FsException e) {
                    throw new AssertionError(e);
                }
            });
            assertEquals(List.of(List.of("model.bin", "optimizer.bin"), List.of("model.bin", "optimizer.bin")), codec.sets);
        }
    }

    @Test void hotZeroWithIdleZeroEncodesAtOnceAsBefore() throws Exception {
        try (Store s = open("hot=0,idle=0")) {
            VersionInfo v = write(s, "/ckpt.pt", random(9000, 5));
            await("encoded without a flush", () -> state(s, v.id()) == VersionState.COLD);
        }
    }
}
