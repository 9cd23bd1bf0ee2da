package io.excpfs.fs.store;

import io.excpfs.codec.ByteSource;
import io.excpfs.codec.CodecParams;
import io.excpfs.codec.CorruptObjectException;
import io.excpfs.codec.EncodedFile;
import io.excpfs.codec.Layout;
import io.excpfs.codec.Pairing;
import io.excpfs.codec.Reconstruction;
import io.excpfs.codec.SetMember;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.excpfs.fs.store.DemotionTest.readVersion;
import static io.excpfs.fs.store.StoreTest.random;
import static io.excpfs.fs.store.StoreTest.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The encoder's by-product goes to the cache of bases: a COLD read right after demotion decodes nothing, and only
 * a fresh store (empty cache) decodes the chain.
 */
class ColdReadCacheTest {
    @TempDir Path tmp;

    /** {@link LossyTestCodec} counting its decodes. */
    static final class CountingCodec implements Codec {
        final LossyTestCodec inner = new LossyTestCodec();
        final AtomicInteger decodes = new AtomicInteger();

        @Override public Layout parse(ByteSource file) throws IOException { return inner.parse(file); }

        @Override public Pairing pair(List<SetMember> members) { return inner.pair(members); }

        @Override public List<EncodedFile> encodeSet(List<SetMember> members, Pairing pairing, CodecParams params) throws IOException {
            return inner.encodeSet(members, pairing, params);
        }

        @Override public Reconstruction decode(byte[] object, Reconstruction base) throws CorruptObjectException {
            decodes.incrementAndGet();
            return inner.decode(object, base);
        }
    }

    @Test void aColdReadRightAfterDemotionIsServedFromTheEncodersReconstruction() throws Exception {
        byte[][] data = new byte[4][];
        for (int i = 0; i < data.length; i++) data[i] = random(40_000, 7 + i);
        CountingCodec codec = new CountingCodec();
        List<VersionInfo> h;
        try (Store s = Store.open(tmp.resolve("store"), StoreOptions.parse(""), codec)) {
            for (byte[] d : data) write(s, "/ckpt.pt", d);
            s.flush();
            h = s.history("/ckpt.pt");
            assertEquals(List.of("seed", "residual", "residual", "hot"), h.stream().map(VersionInfo::kind).toList());
            for (int i = 2; i >= 0; i--) {
                assertArrayEquals(LossyTestCodec.lossy(data[i]), readVersion(s, h.get(i).id()), "v" + i);
            }
            assertEquals(0, codec.decodes.get(), "every COLD version was read from the encoder's reconstruction");
        }
        CountingCodec fresh = new CountingCodec();
        try (Store s = Store.open(tmp.resolve("store"), StoreOptions.parse(""), fresh)) {
            assertArrayEquals(LossyTestCodec.lossy(data[2]), readVersion(s, h.get(2).id()));
            assertEquals(3, fresh.decodes.get(), "a fresh store decodes the seed and both residuals once");
            assertArrayEquals(LossyTestCodec.lossy(data[1]), readVersion(s, h.get(1).id()));
            assertEquals(3, fresh.decodes.get(), "intermediates stay cached");
        }
    }
}
