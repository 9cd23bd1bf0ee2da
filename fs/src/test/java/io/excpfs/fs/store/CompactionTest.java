package io.excpfs.fs.store;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Compaction plans as tables. A version is {@code id:lineage:state:kind:base:stored:kept}, with state H(OT) or
 * C(OLD), kind s(eed), r(esidual), o(paque) or h(ot), kept k (retention keeps it) or x (hidden), and an optional
 * {@code :pinned}. Measured seeds are {@code target=bytes}. The expected plan lists {@code target<freed,freed}
 * per re-seeding, or {@code -} for none.
 */
class CompactionTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // name | measured seeds | versions | expected
            "whole prefix hidden, seed included: always worth it | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:x 3:a:C:r:2:50:k 4:a:H:h:0:9000:k | 3<2,1",
            "nothing hidden: nothing to do | "
                    + " | 1:a:C:s:0:1000:k 2:a:C:r:1:50:k 3:a:H:h:0:9000:k | -",
            "hidden run below a kept seed, cheaper than a seed: kept as it is | "
                    + " | 1:a:C:s:0:1000:k 2:a:C:r:1:50:x 3:a:C:r:2:50:x 4:a:C:r:3:50:k 5:a:H:h:0:9000:k | -",
            "hidden run below a kept seed, dearer than a seed: re-seed | "
                    + " | 1:a:C:s:0:100:k 2:a:C:r:1:50:x 3:a:C:r:2:50:x 4:a:C:r:3:50:k 5:a:H:h:0:9000:k | 4<3,2",
            "break-even is not enough | "
                    + " | 1:a:C:s:0:150:k 2:a:C:r:1:50:x 3:a:C:r:2:50:x 4:a:C:r:3:50:k | -",
            "a measured seed replaces the estimate | 3=1100 "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:x 3:a:C:r:2:50:k | -",
            "a measured seed that still pays | 3=900 "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:x 3:a:C:r:2:50:k | 3<2,1",
            "a pinned target waits | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:k:pinned | -",
            "a pinned dependent of the target waits (its read walks the chain) | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:k 3:a:C:r:2:50:k:pinned | -",
            "a pinned hidden version stops the run there | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:x:pinned 3:a:C:r:2:50:x 4:a:C:r:3:50:k | -",
            "a hidden version with a second dependent is not freed | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:k 3:b:C:r:1:50:k | -",
            "the base of a pending demotion is not freed | "
                    + " | 1:a:C:s:0:1000:x 2:b:C:r:1:50:k 3:a:H:h:0:9000:k | -",
            "only the oldest kept version under the run is re-seeded | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:r:1:50:k 3:a:C:r:2:50:k 4:a:H:h:0:9000:k | 2<1",
            "a seed or opaque target has nothing to free | "
                    + " | 1:a:C:s:0:1000:x 2:a:C:o:0:50:k 3:a:C:s:0:50:k | -",
            "lineages are independent | "
                    + " | 1:a:C:s:0:1000:x 2:b:C:s:0:1000:k 3:a:C:r:1:50:k 4:b:C:r:2:50:k | 3<1",
            "a missing base (corrupt metadata) ends the run | "
                    + " | 2:a:C:r:1:50:x 3:a:C:r:2:50:k | 3<2",
    })
    void plan(String name, String measured, String versions, String expected) {
        List<Compaction.Facts> facts = new ArrayList<>();
        for (String v : versions.trim().split("\\s+")) {
            String[] f = v.split(":");
            String kind = switch (f[3]) { case "s" -> "seed"; case "r" -> "residual"; case "o" -> "opaque"; default -> "hot"; };
            facts.add(new Compaction.Facts(Long.parseLong(f[0]), f[1], f[2].equals("H") ? VersionState.HOT : VersionState.COLD,
                    kind, Long.parseLong(f[4]), Long.parseLong(f[5]), f[6].equals("k"), f.length > 7));
        }
        Map<Long, Long> seeds = new HashMap<>();
        if (measured != null) {
            for (String m : measured.trim().split("\\s+")) {
                String[] kv = m.split("=");
                seeds.put(Long.parseLong(kv[0]), Long.parseLong(kv[1]));
            }
        }
        List<Compaction.Reseed> plan = Compaction.plan(facts, seeds);
        String got = plan.isEmpty() ? "-" : plan.stream()
                .map(r -> r.target() + "<" + r.freed().stream().map(String::valueOf).collect(Collectors.joining(",")))
                .collect(Collectors.joining(" "));
        assertEquals(expected.trim(), got, () -> plan.stream().map(Compaction.Reseed::toString).collect(Collectors.joining("\n")));
        for (Compaction.Reseed r : plan) {
            assertEquals(r.freedBytes() + facts.stream().filter(f -> f.id() == r.target()).findFirst().orElseThrow().storedBytes()
                    - r.seedEstimate(), r.reclaimEstimate(), r.toString());
        }
    }
}
