package io.excpfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code excpfs report} on real stores: a run of safetensors checkpoints written here (fast), and a real nanoGPT run
 * trained with torch (slow). The page must parse as XML, hold every chart section as inline SVG, and carry the same
 * totals and per-version bytes as {@code stats --json}; the PNG must be a real image of the requested size.
 */
class ReportCommandTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final List<String> CHARTS = List.of("chart-bytes", "chart-ratio", "chart-bits", "chart-kept", "chart-error");

    @TempDir Path tmp;

    /** A safetensors file of F32 tensors with the given names and element counts, each shaped [n/64, 64]. */
    static byte[] safetensors(List<String> names, List<float[]> tensors) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < names.size(); i++) {
            int n = tensors.get(i).length;
            if (i > 0) header.append(',');
            header.append('"').append(names.get(i)).append("\":{\"dtype\":\"F32\",\"shape\":[").append(n / 64).append(",64],\"data_offsets\":[")
                    .append(offset).append(',').append(offset + 4L * n).append("]}");
            offset += 4L * n;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) header.append(' ');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (float[] t : tensors) for (float f : t) b.putFloat(f);
        return b.array();
    }

    /** Four checkpoints of a drifting two-tensor model, as an HF-style run directory. */
    Path safetensorsRun() throws Exception {
        Random rnd = new Random(42);
        List<String> names = List.of("layer.0.weight", "layer.1.weight");
        List<float[]> w = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            float[] t = new float[64 * 64];
            for (int k = 0; k < t.length; k++) t[k] = (float) (rnd.nextGaussian() * 0.02);
            w.add(t);
        }
        Path run = tmp.resolve("run");
        for (int step = 100; step <= 400; step += 100) {
            for (float[] t : w) for (int k = 0; k < t.length; k++) t[k] += (float) (rnd.nextGaussian() * 1e-3);
            Path d = Files.createDirectories(run.resolve("checkpoint-" + step));
            Files.write(d.resolve("model.safetensors"), safetensors(names, w));
            Files.writeString(d.resolve("trainer_state.json"), "{\"global_step\": " + step + "}\n");
        }
        return run;
    }

    @Test void reportOfASafetensorsRunMatchesStats() throws Exception {
        Path store = tmp.resolve("store");
        CliTest.Run imp = CliTest.run("import", safetensorsRun().toString(), store.toString(), "--hot", "1");
        assertEquals(0, imp.code(), imp.err());
        Path html = tmp.resolve("out/run.html");
        Files.createDirectories(html.getParent());
        CliTest.Run rep = CliTest.run("report", store.toString(), "--out", html.toString(), "--png-size", "900x450");
        assertEquals(0, rep.code(), rep.err());
        assertTrue(rep.out().startsWith("wrote " + html), rep.out());
        Document page = checkPage(html, store);

        Element checkpoints = byId(page, "checkpoints");
        List<List<String>> rows = rows(checkpoints);
        List<String> residuals = rows.stream().filter(r -> r.get(2).startsWith("residual")).map(r -> r.get(0)).toList();
        assertEquals(List.of("200", "300"), residuals, "checkpoint-200 and -300 are residuals, 400 stays HOT: " + rows);
        for (List<String> r : rows) {
            if (!r.get(2).startsWith("residual")) continue;
            double bits = Double.parseDouble(r.get(6));
            assertTrue(bits > 0 && bits < 32, "bits per parameter of a residual: " + r);
            double kept = Double.parseDouble(r.get(7).replace("%", ""));
            assertTrue(kept > 0 && kept <= 100, "kept fraction of weights: " + r);
            double err = Double.parseDouble(r.get(9));
            assertTrue(err > 0 && err < 0.5, "relative weight error of a lossy residual: " + r);
            assertEquals("–", r.get(10), "no moments in these checkpoints: " + r);
        }
        long params = 2 * 64 * 64, stored = 0;
        for (List<String> r : rows) if (r.get(2).startsWith("residual")) stored += Long.parseLong(r.get(4));
        assertEquals(stored * 8.0 / (2 * params), Double.parseDouble(byId(page, "residual-bits").getTextContent()), 0.001,
                "stored bits of the two residual checkpoints over their parameters");
        checkPng(tmp.resolve("out/run.png"), 900, 450);
    }

    @Test void reportRefusesABadPngSizeAndAMissingStore() {
        CliTest.Run bad = CliTest.run("report", tmp.resolve("nothing").toString(), "--out", tmp.resolve("r.html").toString());
        assertEquals(ExitCode.STORE, bad.code(), bad.err());
        CliTest.Run size = CliTest.run("report", tmp.toString(), "--png-size", "huge");
        assertEquals(ExitCode.USAGE, size.code(), size.err());
        assertTrue(size.err().contains("--png-size"), size.err());
    }

    @Tag("slow")
    @Test void reportOfARealNanoGptRun() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is missing");
        Path scripts = null;
        for (Path d = Path.of("").toAbsolutePath(); d != null && scripts == null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("bench/python/train.py"))) scripts = d.resolve("bench/python");
        }
        assumeTrue(scripts != null, "bench/python/train.py not found");
        Path run = tmp.resolve("run");
        Process p = new ProcessBuilder(PYTHON, "train.py", "--layout", "nanogpt", "--preset", "tiny", "--keep-steps",
                "--out", run.toString(), "--steps", "40", "--every", "10").directory(scripts.toFile()).redirectErrorStream(true).start();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        p.getInputStream().transferTo(log);
        assertTrue(p.waitFor(20, TimeUnit.MINUTES));
        assumeTrue(!log.toString().contains("No module named 'torch'"), "torch is missing");
        assertEquals(0, p.exitValue(), log.toString());

        Path store = tmp.resolve("store");
        CliTest.Run imp = CliTest.run("import", run.toString(), store.toString(), "--hot", "1");
        assertEquals(0, imp.code(), imp.err());
        Path html = tmp.resolve("report.html");
        CliTest.Run rep = CliTest.run("report", store.toString(), "--out", html.toString());
        assertEquals(0, rep.code(), rep.err());
        Document page = checkPage(html, store);
        List<List<String>> rows = rows(byId(page, "checkpoints"));
        long residuals = 0;
        for (List<String> r : rows) {
            if (!r.get(2).startsWith("residual")) continue;
            residuals++;
            double bits = Double.parseDouble(r.get(6));
            assertTrue(bits > 0.5 && bits < 32, "bits per parameter (weights + both moments) of a residual: " + r);
            double keptMoments = Double.parseDouble(r.get(8).replace("%", ""));
            assertTrue(keptMoments > 0 && keptMoments < 100, "ExCP keeps part of the moments: " + r);
            for (int col = 9; col <= 11; col++) {
                double err = Double.parseDouble(r.get(col));
                assertTrue(err > 0 && err < 2, "relative error per role: " + r);
            }
        }
        assertTrue(residuals >= 2, "step-20 and step-30 are residuals: " + rows);
        double residualBits = Double.parseDouble(byId(page, "residual-bits").getTextContent());
        assertTrue(residualBits > 0.5 && residualBits < 32, "bits per parameter over the residual checkpoints: " + residualBits);
        checkPng(tmp.resolve("report.png"), 1200, 600);
    }

    /** Parses the page as XML and checks sections, SVGs and totals against stats --json; returns the document. */
    static Document checkPage(Path html, Path store) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document page = f.newDocumentBuilder().parse(html.toFile());
        String text = Files.readString(html);
        assertFalse(text.contains("<script"), "no scripts");
        assertFalse(text.matches("(?s).*(src|href)=\"(https?:)?//.*"), "nothing fetched from elsewhere");
        for (String id : CHARTS) {
            Element section = byId(page, id);
            NodeList svgs = section.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg");
            assertEquals(1, svgs.getLength(), id + " holds one inline SVG");
            assertTrue(((Element) svgs.item(0)).getElementsByTagNameNS("*", "line").getLength() > 4, id + " has axes and grid");
        }
        assertTrue(byId(page, "chart-bytes").getElementsByTagNameNS("*", "polyline").getLength() == 2, "raw and stored lines");

        CliTest.Run stats = CliTest.run("stats", store.toString(), "--json");
        assertEquals(0, stats.code(), stats.err());
        JsonNode doc = new ObjectMapper().readTree(stats.out());
        assertEquals(doc.get("raw_bytes").asText(), byId(page, "total-raw").getTextContent());
        assertEquals(doc.get("stored_bytes").asText(), byId(page, "total-stored").getTextContent());
        assertEquals(doc.get("ratio").asDouble(), Double.parseDouble(byId(page, "total-ratio").getTextContent()), 0.005);
        assertEquals(Integer.toString(doc.get("versions").size()), byId(page, "total-versions").getTextContent());
        for (JsonNode v : doc.get("versions")) {
            List<String> row = cells(byId(page, "version-" + v.get("id").asLong()));
            assertEquals(v.get("path").asText(), row.get(1));
            assertEquals(v.get("kind").asText(), row.get(2));
            assertEquals(v.get("raw_bytes").asText(), row.get(4));
            assertEquals(v.get("stored_bytes").asText(), row.get(5));
        }
        long rawSum = 0;
        for (List<String> r : rows(byId(page, "checkpoints"))) rawSum += Long.parseLong(r.get(3));
        assertEquals(doc.get("raw_bytes").asLong(), rawSum, "checkpoints partition the versions");
        return page;
    }

    static void checkPng(Path png, int width, int height) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a readable image");
        assertEquals(width, img.getWidth());
        assertEquals(height, img.getHeight());
        int stored = 0, raw = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if (rgb == 0x1f77b4) stored++;
                if (rgb == 0x9e9e9e) raw++;
            }
        }
        assertTrue(stored > width / 4 && raw > width / 4, "both lines are drawn: " + stored + " stored and " + raw + " raw pixels");
    }

    static Element byId(Document d, String id) {
        NodeList all = d.getElementsByTagNameNS("*", "*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (id.equals(e.getAttribute("id"))) return e;
        }
        throw new AssertionError("no element with id " + id);
    }

    static List<String> cells(Element row) {
        List<String> out = new ArrayList<>();
        NodeList tds = row.getElementsByTagNameNS("*", "td");
        for (int i = 0; i < tds.getLength(); i++) out.add(tds.item(i).getTextContent());
        return out;
    }

    static List<List<String>> rows(Element section) {
        List<List<String>> out = new ArrayList<>();
        NodeList body = section.getElementsByTagNameNS("*", "tbody");
        NodeList trs = ((Element) body.item(0)).getElementsByTagNameNS("*", "tr");
        for (int i = 0; i < trs.getLength(); i++) out.add(cells((Element) trs.item(i)));
        return out;
    }
}
