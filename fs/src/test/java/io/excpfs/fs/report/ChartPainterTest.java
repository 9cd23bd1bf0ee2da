package io.excpfs.fs.report;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ChartPainterTest {
    static LineChart chart(LineChart.Unit unit, double... values) {
        List<String> labels = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) labels.add(Integer.toString(100 * (i + 1)));
        return new LineChart("t", "T <&> \"q\"", "y", unit, labels, List.of(new LineChart.Series("s", "#1f77b4", values)));
    }

    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test void ticksStartAtZeroAndCoverEveryValue() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int round = 0; round < 500; round++) {
            LineChart.Unit unit = LineChart.Unit.values()[rnd.nextInt(LineChart.Unit.values().length)];
            double scale = Math.pow(10, rnd.nextInt(16) - 6);
            double[] v = new double[1 + rnd.nextInt(20)];
            for (int i = 0; i < v.length; i++) v[i] = rnd.nextInt(10) == 0 ? Double.NaN : rnd.nextDouble() * scale;
            double[] t = ChartPainter.ticks(chart(unit, v));
            String ctx = "seed " + seed + " round " + round + " unit " + unit + " ticks " + java.util.Arrays.toString(t);
            assertEquals(0.0, t[0], ctx);
            assertTrue(t.length >= 2 && t.length <= 12, ctx);
            for (double x : v) if (Double.isFinite(x)) assertTrue(x <= t[t.length - 1] * (1 + 1e-12), ctx + " value " + x);
            for (int i = 1; i < t.length; i++) {
                double top = t[t.length - 1];
                String a = unit.tick(t[i - 1], t[1] - t[0], top), b = unit.tick(t[i], t[1] - t[0], top);
                assertNotEquals(a, b, ctx + ": neighbouring tick labels must differ");
            }
        }
    }

    @Test void tickLabelsReadNaturally() {
        double mib = 1048576.0;
        assertEquals("40 MiB", LineChart.Unit.BYTES.tick(40 * mib, 20 * mib, 80 * mib));
        assertEquals("0 MiB", LineChart.Unit.BYTES.tick(0, 20 * mib, 80 * mib));
        assertEquals("0.8 MiB", LineChart.Unit.BYTES.tick(0.8 * mib, 0.2 * mib, 1.2 * mib), "one unit along the axis");
        assertEquals("2.5x", LineChart.Unit.RATIO.tick(2.5, 0.5, 15));
        assertEquals("20%", LineChart.Unit.PERCENT.tick(0.2, 0.1, 0.6));
        assertEquals("0.05", LineChart.Unit.PLAIN.tick(0.05, 0.01, 0.1));
    }

    @Test void svgIsWellFormedEscapedAndBreaksLinesAtMissingValues() throws Exception {
        String svg = ChartPainter.svg(chart(LineChart.Unit.RATIO, 1, 2, Double.NaN, 4, 5, Double.NaN), 600, 300);
        Document d = parse(svg);
        assertEquals("svg", d.getDocumentElement().getLocalName());
        assertEquals("T <&> \"q\"", d.getDocumentElement().getAttribute("aria-label"));
        assertEquals(2, d.getElementsByTagNameNS("*", "polyline").getLength(), "1-2 and 4-5, no line across the gaps");
        assertEquals(4, d.getElementsByTagNameNS("*", "circle").getLength(), "one dot per value");
    }

    @Test void aChartWithoutFiguresSaysSo() throws Exception {
        String svg = ChartPainter.svg(chart(LineChart.Unit.PERCENT, Double.NaN, Double.NaN), 600, 300);
        assertTrue(parse(svg).getDocumentElement().getTextContent().contains("no figures recorded"), svg);
    }
}
