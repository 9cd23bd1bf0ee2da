package io.excpfs.fs.store;

import io.excpfs.codec.CodecParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class StoreOptionsTest {
    @Test void parsesEveryOption() {
        StoreOptions o = StoreOptions.parse("mode=lossless,hot=2,alpha=2e-4,beta=1.5,bits=3,opt_bits=5,keep_last=4,"
                + "keep_every=1000,seed_every=10,cache=512M,encode_threads=2");
        assertEquals(new StoreOptions(CodecParams.Mode.LOSSLESS, 2, 2e-4, 1.5, 3, 5, CodecParams.Keep.PUBLISHED, 1.0, 4, 1000, 10, 512L << 20, 2), o);
        assertEquals(o, StoreOptions.parse(o.toOptionString()));
        assertEquals(CodecParams.Mode.LOSSLESS, o.codecParams().mode());
        assertEquals(3, o.codecParams().bits());
    }

    @ParameterizedTest
    @CsvSource({"idle=90s,90000", "idle=90,90000", "idle=30m,1800000", "idle=2h,7200000", "idle=1d,86400000",
            "idle=250ms,250", "idle=off,0", "idle=0,0", "'hot=0,idle=5s',5000", "hot=0,60000", "hot=1,0", "'',0"})
    void idleDurations(String spec, long effectiveMillis) {
        StoreOptions o = StoreOptions.parse(spec);
        assertEquals(effectiveMillis * 1_000_000L, o.effectiveIdleNanos());
        assertEquals(o, StoreOptions.parse(o.toOptionString()), o.toOptionString());
    }

    @Test void emptyMeansDefaults() {
        assertEquals(StoreOptions.defaults(), StoreOptions.parse(""));
        assertEquals(StoreOptions.defaults(), StoreOptions.parse(null));
        assertEquals(1, StoreOptions.defaults().hot());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "hot=-1|option 'hot': expected a whole number >= 0, got '-1'",
            "hot=two|option 'hot': expected a whole number, got 'two'",
            "mode=zip|option 'mode': expected excp or lossless, got 'zip'",
            "bits=9|option 'bits': expected a whole number from 1 to 8, got '9'",
            "opt_bits=0|option 'opt_bits'",
            "alpha=-1|option 'alpha': expected a number > 0",
            "alpha=NaN|option 'alpha'",
            "beta=x|option 'beta': expected a number, got 'x'",
            "keep_last=-1|option 'keep_last'",
            "keep_every=1.5|option 'keep_every'",
            "seed_every=-2|option 'seed_every'",
            "cache=lots|option 'cache': expected a size such as 512M or 2G, got 'lots'",
            "encode_threads=0|option 'encode_threads'",
            "colour=red|unknown option 'colour'",
            "hot=1,hot=2|option 'hot' given twice",
            "idle=-5s|option 'idle': expected 0, off, or a duration such as 90s, 30m, 2h, got '-5s'",
            "idle=5x|option 'idle'",
            "idle=|option 'idle'",
            "idle=99999999999d|option 'idle': expected a duration under 290 years",
    })
    void badOptionsNameTheProblem(String spec, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StoreOptions.parse(spec));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test void fuseOptionsPassThroughWhenAsked() {
        Map<String, String> others = new LinkedHashMap<>();
        StoreOptions o = StoreOptions.parse("allow_other,hot=3,default_permissions,max_read=4096", others);
        assertEquals(3, o.hot());
        assertEquals(Map.of("allow_other", "", "default_permissions", "", "max_read", "4096"), others);
    }

    @ParameterizedTest
    @CsvSource({"1024,1024", "4K,4096", "2G,2147483648", "512MiB,536870912", "1t,1099511627776", "0,0"})
    void sizes(String text, long bytes) {
        assertEquals(bytes, StoreOptions.sizeOf("cache", text));
    }
}
