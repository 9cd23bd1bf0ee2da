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

    /**
     * Idle demotion as a table: a version is {@code id:lineage:status:state:lastUsedSeconds}, with an optional
     * {@code :pinned}; {@code now} in seconds; {@code flush} whether a flush asked for the plan.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // name | options | now | flush | versions | expected
            "hot=1 without idle keeps the newest | | 1000 | false | 1:a:H:H:10 2:a:L:H:20 | 1=seed 2=KEEP_HOT",
            "idle lineage: the newest goes too | idle=60s | 1000 | false | 1:a:H:H:10 2:a:L:H:20 | 1=seed 2=residual",
            "recently sealed: stays | idle=60s | 1000 | false | 1:a:H:C:10 2:a:L:H:990 | 1=KEEP 2=KEEP_HOT",
            "recently read older version keeps the lineage busy | idle=60s | 1000 | false | 1:a:H:C:980 2:a:L:H:20 | 1=KEEP 2=KEEP_HOT",
            "an open version keeps the lineage busy | idle=60s | 1000 | false | 1:a:H:C:10 2:a:L:H:20:pinned | 1=KEEP 2=KEEP_HOT",
            "lineages idle on their own | idle=60s | 1000 | false | 1:a:L:H:10 2:b:L:H:990 | 1=seed 2=KEEP_HOT",
            "a flush does not demote under hot=1 | idle=60s | 1000 | true | 1:a:H:C:10 2:a:L:H:990 | 1=KEEP 2=KEEP_HOT",
            "hot=0: the newest waits for idleness (default 60 s) | hot=0 | 1000 | false | 1:a:H:H:900 2:a:L:H:990 | 1=seed 2=KEEP_HOT",
            "hot=0: idle newest goes | hot=0 | 1000 | false | 1:a:H:H:900 2:a:L:H:930 | 1=seed 2=residual",
            "hot=0: a flush does not wait | hot=0 | 1000 | true | 1:a:H:H:900 2:a:L:H:990 | 1=seed 2=residual",
            "hot=0,idle=0: at once, as before idle existed | hot=0,idle=0 | 1000 | false | 1:a:H:H:900 2:a:L:H:999 | 1=seed 2=residual",
            "hot=0 with a given idle | hot=0,idle=5s | 1000 | false | 1:a:L:H:996 2:b:L:H:990 | 1=KEEP_HOT 2=seed",
    })
    void idle(String name, String options, long now, boolean flush, String versions, String expected) {
        List<Retention.Facts> facts = new ArrayList<>();
        for (String v : versions.trim().split("\\s+")) {
            String[] f = v.split(":");
            facts.add(new Retention.Facts(Long.parseLong(f[0]), f[1], -1,
                    switch (f[2]) { case "L" -> VersionStatus.LIVE; case "H" -> VersionStatus.HISTORY; default -> VersionStatus.HIDDEN; },
                    f[3].equals("H") ? VersionState.HOT : VersionState.COLD, f[3].equals("C") && !f[0].equals("1") ? 1 : 0,
                    f[3].equals("C") && !f[0].equals("1") ? 1 : 0, f.length > 5, Long.parseLong(f[4]) * 1_000_000_000L));
        }
        List<Retention.Decision> plan = Retention.plan(facts, StoreOptions.parse(options == null ? "" : options.trim()), now * 1_000_000_000L, flush);
        String got = plan.stream().map(d -> d.id() + "=" + (d.action() == Retention.Action.DEMOTE ? (d.seed() ? "seed" : "residual") : d.action().name()))
                .collect(Collectors.joining(" "));
        assertEquals(expected.trim(), got, () -> plan.stream().map(Retention.Decision::toString).collect(Collectors.joining("\n")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "off: never | | 1000 | 1:a:L:H:10 | 0",
            "the next lineage to become idle | idle=60s | 1000 | 1:a:L:H:990 2:b:L:H:980 3:c:L:C:995 | 1040",
            "already idle lineages are not rescheduled | idle=60s | 1000 | 1:a:L:H:10 | 0",
            "an open version counts as used now | idle=60s | 1000 | 1:a:L:H:10:pinned | 1060",
    })
    void nextIdleCheck(String name, String options, long now, String versions, long expected) {
        List<Retention.Facts> facts = new ArrayList<>();
        for (String v : versions.trim().split("\\s+")) {
            String[] f = v.split(":");
            facts.add(new Retention.Facts(Long.parseLong(f[0]), f[1], -1, VersionStatus.LIVE,
                    f[3].equals("H") ? VersionState.HOT : VersionState.COLD, 0, 0, f.length > 5, Long.parseLong(f[4]) * 1_000_000_000L));
        }
        assertEquals(expected * 1_000_000_000L, Retention.nextIdleCheck(facts, StoreOptions.parse(options == null ? "" : options.trim()), now * 1_000_000_000L));
    }
}
