package io.excpfs.fs.cli;

import io.excpfs.fs.store.VersionInfo;
import io.excpfs.fs.store.VersionState;
import io.excpfs.fs.store.VersionStatus;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {
    @Test void plainLinesOnePerStepWithCounts() {
        StringWriter out = new StringWriter();
        Progress p = new Progress(new PrintWriter(out), "exported", 2, false);
        p.item("a/model.safetensors", 1234);
        p.problem("cannot export /b: EIO");
        p.item("c.txt", 0);
        p.phase("encoding 3 versions", 3);
        p.count("encoded", 1, 3);
        p.count("encoded", 1, 3);
        p.count("encoded", 3, 3);
        p.done();
        assertEquals(List.of("exported a/model.safetensors (1234 bytes) [1/2]", "cannot export /b: EIO", "exported c.txt (0 bytes) [2/2]",
                "encoding 3 versions...", "encoded [1/3]", "encoded [3/3]"), out.toString().lines().toList());
    }

    @Test void aBarRedrawnInPlaceOnATerminal() {
        StringWriter out = new StringWriter();
        Progress p = new Progress(new PrintWriter(out), "checked", 4, true);
        p.item("version 1", -1);
        p.item("version 2", -1);
        p.problem("problem: version 2 is corrupt");
        p.item("version 3", -1);
        p.item("version 4", -1);
        p.done();
        String s = out.toString();
        assertTrue(s.startsWith("\r[#######                       ] 1/4 version 1"), s);
        assertTrue(s.contains("\r[###############               ] 2/4 version 2"), s);
        assertTrue(s.contains("\nproblem: version 2 is corrupt\n\r[######################"), s);
        assertTrue(s.contains("\r[##############################] 4/4 version 4"), s);
        assertTrue(s.endsWith("\n"), "the bar's line is ended");
        assertEquals(3, s.chars().filter(c -> c == '\n').count(), s);
    }

    static VersionInfo v(long id, String lineage, VersionState state) {
        return new VersionInfo(id, 1, lineage, lineage, id, -1, 0, 0, "", 10, 10, state, state == VersionState.HOT ? "hot" : "residual",
                0, 0, VersionStatus.LIVE);
    }

    @Test void backlogIsHotVersionsOlderThanTheNewestHotOnes() {
        List<VersionInfo> vs = List.of(v(1, "/a", VersionState.COLD), v(2, "/a", VersionState.HOT), v(3, "/b", VersionState.HOT),
                v(4, "/a", VersionState.HOT), v(5, "/a", VersionState.HOT), v(6, "/b", VersionState.HOT));
        assertEquals(3, EncodeBacklog.pending(vs, 1), "/a: 2 and 4 wait, /b: 3 waits");
        assertEquals(1, EncodeBacklog.pending(vs, 2), "/a: 2 waits");
        assertEquals(5, EncodeBacklog.pending(vs, 0), "every HOT version waits with hot=0");
    }
}
