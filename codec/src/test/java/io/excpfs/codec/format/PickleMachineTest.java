package io.excpfs.codec.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pickle reader on pickles Python itself wrote with every protocol (sample_p0..5.pkl, same object). */
class PickleMachineTest {
    static Map<String, String> expected() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ints", "[0, 1, -5, 255, 65536, -2147483648, 1099511627776]");
        m.put("big", "1180591620717411303424");
        m.put("floats", "[0.1, -2.5, 1e-08, 3.0]");
        m.put("text", "héllo \u2603 \\u0041");
        m.put("flags/on", "True");
        m.put("flags/off", "False");
        m.put("flags/none", "None");
        m.put("nested/k/0/x", "1");
        m.put("nested/k/1/0", "y");
        m.put("nested/k/1/1", "2");
        m.put("7", "int key");
        return m;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void everyProtocolGivesTheSameTree(int protocol) throws MalformedCheckpoint {
        byte[] pickle = Fixtures.format("sample_p" + protocol + ".pkl");
        PickleMachine.Result r = PickleMachine.run(pickle, 0, 0);
        assertEquals(pickle.length, r.end());
        ObjectWalk w = ObjectWalk.of(r.value());
        assertEquals(expected(), w.metadata);
    }

    @Test
    void globalsAreSymbolsNeverCode() throws MalformedCheckpoint {
        byte[] p = "\u0080\u0002cos\nsystem\nX\u0006\u0000\u0000\u0000echo 1\u0085R.".getBytes(StandardCharsets.ISO_8859_1);
        Py v = PickleMachine.run(p, 0, 0).value();
        assertTrue(v instanceof Py.Obj o && o.callable instanceof Py.Global g && g.is("os", "system"));
    }

    @Test
    void sizesAreCheckedAgainstTheBytesPresent() {
        byte[] p = "\u0080\u0002X\u00ff\u00ff\u00ff\u007fabc.".getBytes(StandardCharsets.ISO_8859_1);
        assertThrows(PickleMachine.OutOfBytes.class, () -> PickleMachine.run(p, 0, 0));
    }
}
