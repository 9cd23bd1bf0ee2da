package io.excpfs.fs.cli;

import io.excpfs.fs.report.RunReport;
import io.excpfs.fs.store.Store;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Writes a self-contained HTML page of a store's figures (stored vs raw bytes over the run, ratio and bits per
 * parameter per checkpoint, kept fractions, reconstruction error per tensor role) and its main chart as a PNG beside
 * it. Opens the store read-only, so it works while mounted.
 */
@Command(name = "report", description = "Write an HTML report of STORE with charts, and its main chart as a PNG beside it (read-only; works while mounted).")
final class ReportCommand implements Callable<Integer> {
    @Mixin LogSetup logging;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE") Path storeDir;
    @Option(names = "--out", paramLabel = "FILE", description = "HTML file to write (default: report.html); the PNG goes beside it with the extension .png")
    Path out = Path.of("report.html");
    @Option(names = "--title", paramLabel = "TEXT", description = "page title (default: excpfs report of STORE)") String title;
    @Option(names = "--png-size", paramLabel = "WxH", description = "size of the PNG in pixels (default: 1200x600)") String pngSize = "1200x600";
    @Option(names = "--no-png", description = "write only the HTML page") boolean noPng;

    @Override public Integer call() throws Exception {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        int[] size = size(pngSize);
        if (Files.isDirectory(out)) throw new Main.Failure(ExitCode.USAGE, "--out " + out + " is a directory");
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) throw new Main.Failure(ExitCode.USAGE, "directory " + parent + " does not exist");
        RunReport report;
        try (Store store = Main.openReadOnly(storeDir)) {
            report = RunReport.read(store, title != null ? title : "excpfs report of " + storeDir.toAbsolutePath().normalize());
        }
        Path png = noPng ? null : out.resolveSibling(stem(out.getFileName().toString()) + ".png");
        report.write(out, png, size[0], size[1]);
        spec.root().commandLine().getOut().printf(Locale.ROOT, "wrote %s%s: %d checkpoints, %d versions, %s raw, %s stored (%.2fx)%n", out,
                png == null ? "" : " and " + png, report.checkpoints().size(), report.versions().size(), Main.human(report.rawBytes()),
                Main.human(report.storedBytes()), report.ratio());
        return ExitCode.OK;
    }

    static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static int[] size(String spec) {
        String[] p = spec.toLowerCase(Locale.ROOT).split("x");
        try {
            if (p.length == 2) {
                int w = Integer.parseInt(p[0].trim()), h = Integer.parseInt(p[1].trim());
                if (w >= 200 && h >= 120 && w <= 8000 && h <= 8000) return new int[]{w, h};
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new Main.Failure(ExitCode.USAGE, "--png-size: expected WIDTHxHEIGHT between 200x120 and 8000x8000, got '" + spec + "'");
    }
}
