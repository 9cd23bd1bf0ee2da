package io.excpfs.fs.store;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Retention plans as tables. A version is {@code id:lineage:step:status:state:base:depth}, with status L(ive),
 * H(istory) or X (hidden), state H(OT) or C(OLD), and an optional {@code :pinned}. The expected plan lists
 * {@code id=ACTION} per version, DEMOTE written as {@code seed} or {@code residual}.
 */
class RetentionTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // name | options | versions | expected
            "overwritten path, hot=1: demote all but the newest, in order | "
                    + " | 1:a:-1:H:H:0:0 2:a:-1:H:H:0:0 3:a:-1:L:H:0:0 | 1=seed 2=residual 3=KEEP_HOT",
            "hot=0 encodes the newest too | hot=0 | 1:a:-1:H:H:0:0 2:a:-1:L:H:0:0 | 1=seed 2=residual",
            "hot=2 keeps two exact | hot=2 | 1:a:-1:H:H:0:0 2:a:-1:H:H:0:0 3:a:-1:L:H:0:0 | 1=seed 2=KEEP_HOT 3=KEEP_HOT",
            "chain continues from the newest COLD version | "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:C:1:1 3:a:-1:H:H:0:0 4:a:-1:L:H:0:0 | 1=KEEP 2=KEEP 3=residual 4=KEEP_HOT",
            "keep_last=1 hides the bases of the kept version | keep_last=1 "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:C:1:1 3:a:-1:H:C:2:2 4:a:-1:L:H:0:0 | 1=HIDE 2=HIDE 3=KEEP 4=KEEP_HOT",
            "keep_last=1 removes what no kept version needs | keep_last=1 "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:C:0:0 3:a:-1:H:C:2:1 4:a:-1:L:H:0:0 | 1=REMOVE 2=HIDE 3=KEEP 4=KEEP_HOT",
            "HOT history beyond keep_last is removed without encoding | keep_last=1 "
                    + " | 1:a:-1:H:H:0:0 2:a:-1:H:H:0:0 3:a:-1:L:H:0:0 | 1=REMOVE 2=seed 3=KEEP_HOT",
            "keep_every keeps round steps | keep_last=1,keep_every=1000 "
                    + " | 1:c:500:H:C:0:0 2:c:1000:H:C:0:0 3:c:1500:H:C:0:0 4:c:2000:L:H:0:0 | 1=REMOVE 2=KEEP 3=KEEP 4=KEEP_HOT",
            "live versions of a step lineage are all kept | keep_last=1 "
                    + " | 1:c:500:L:H:0:0 2:c:1000:L:H:0:0 3:c:1500:L:H:0:0 | 1=seed 2=residual 3=KEEP_HOT",
            "seed_every=2 restarts the chain | seed_every=2 "
                    + " | 1:a:-1:H:H:0:0 2:a:-1:H:H:0:0 3:a:-1:H:H:0:0 4:a:-1:H:H:0:0 5:a:-1:H:H:0:0 6:a:-1:L:H:0:0"
                    + " | 1=seed 2=residual 3=residual 4=seed 5=residual 6=KEEP_HOT",
            "seed_every counts the existing chain | seed_every=2 "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:C:1:1 3:a:-1:H:C:2:2 4:a:-1:H:H:0:0 5:a:-1:L:H:0:0 | 1=KEEP 2=KEEP 3=KEEP 4=seed 5=KEEP_HOT",
            "an open version is kept | keep_last=1 "
                    + " | 1:a:-1:H:C:0:0:pinned 2:a:-1:H:C:0:0 3:a:-1:L:H:0:0 | 1=KEEP 2=KEEP 3=KEEP_HOT",
            "the base of a pending demotion is hidden, not removed | keep_last=1 "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:H:0:0 3:a:-1:L:H:0:0 | 1=HIDE 2=residual 3=KEEP_HOT",
            "unless the demotion will seed anyway | keep_last=1,seed_every=1 "
                    + " | 1:a:-1:H:C:0:0 2:a:-1:H:C:1:1 3:a:-1:H:H:0:0 4:a:-1:L:H:0:0 | 1=REMOVE 2=REMOVE 3=seed 4=KEEP_HOT",
            "a hidden version nobody needs goes | keep_last=1 "
                    + " | 1:a:-1:X:C:0:0 2:a:-1:H:C:0:0 3:a:-1:L:H:0:0 | 1=REMOVE 2=KEEP 3=KEEP_HOT",
            "lineages are independent | keep_last=1 "
                    + " | 1:a:-1:H:C:0:0 2:b:-1:H:C:0:0 3:a:-1:H:C:0:0 4:a:-1:L:H:0:0 5:b:-1:L:H:0:0 | 1=REMOVE 2=KEEP 3=KEEP 4=KEEP_HOT 5=KEEP_HOT",
            "deleted file: its last version is history too | "
                    + " | 1:a:-1:H:H:0:0 2:a:-1:H:H:0:0 | 1=seed 2=KEEP_HOT",
    })
    void plan(String name, String options, String versions, String expected) {
        List<Retention.Facts> facts = new ArrayList<>();
        for (String v : versions.trim().split("\\s+")) {
            String[] f = v.split(":");
            facts.add(new Retention.Facts(Long.parseLong(f[0]), f[1], Long.parseLong(f[2]),
                    switch (f[3]) { case "L" -> VersionStatus.LIVE; case "H" -> VersionStatus.HISTORY; default -> VersionStatus.HIDDEN; },
                    f[4].equals("H") ? VersionState.HOT : VersionState.COLD, Long.parseLong(f[5]), Integer.parseInt(f[6]),
                    f.length > 7));
        }
        List<Retention.Decision> plan = Retention.plan(facts, StoreOptions.parse(options == null ? "" : options.trim()));
        String got = plan.stream().map(d -> d.id() + "=" + (d.action() == Retention.Action.DEMOTE ? (d.seed() ? "seed" : "residual") : d.action().name()))
                .collect(Collectors.joining(" "));
        assertEquals(expected.trim(), got, () -> plan.stream().map(Retention.Decision::toString).collect(Collectors.joining("\n")));
    }
}
