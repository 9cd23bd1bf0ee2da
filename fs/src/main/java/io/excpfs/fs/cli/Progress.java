package io.excpfs.fs.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long command on stderr: a bar redrawn in place when stderr is a terminal, one plain line per step
 * otherwise (pipes, files, the journal). Problems always get a line of their own.
 */
final class Progress {
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String verb;
    private final boolean tty;
    private long total;
    private long done;
    private long bytes;
    private boolean barShown;
    private String lastCount;

    /** {@code verb} names what a step did, e.g. {@code imported}, {@code exported}, {@code checked}. */
    Progress(PrintWriter err, String verb, long total) {
        this(err, verb, total, System.console() != null);
    }

    Progress(PrintWriter err, String verb, long total, boolean tty) {
        this.err = err;
        this.verb = verb;
        this.total = total;
        this.tty = tty;
    }

    /** One step done on {@code name}; {@code size} in bytes, or -1 when it has none. */
    void item(String name, long size) {
        done++;
        if (size > 0) bytes += size;
        if (tty) {
            String shown = name.length() > 40 ? "..." + name.substring(name.length() - 37) : name;
            bar(done, total, (size >= 0 ? Main.human(bytes) + " " : "") + String.format(Locale.ROOT, "%-40s", shown));
        } else {
            err.printf(Locale.ROOT, "%s %s%s [%d/%d]%n", verb, name, size >= 0 ? " (" + size + " bytes)" : "", done, total);
        }
        err.flush();
    }

    /** A count that moves on its own (e.g. the encode backlog): redrawn on a terminal, a line when it changes otherwise. */
    void count(String what, long done, long total) {
        if (tty) {
            bar(done, total, what);
        } else {
            String line = String.format(Locale.ROOT, "%s [%d/%d]", what, done, total);
            if (line.equals(lastCount)) return;
            lastCount = line;
            err.println(line);
        }
        err.flush();
    }

    private void bar(long done, long total, String tail) {
        int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, WIDTH * done / total);
        err.printf(Locale.ROOT, "\r[%s%s] %d/%d %s", "#".repeat(filled), " ".repeat(WIDTH - filled), done, total, tail);
        barShown = true;
    }

    void problem(String msg) {
        if (tty && barShown) err.println();
        barShown = false;
        err.println(msg);
        err.flush();
    }

    /** Starts a new phase with its own total. */
    void phase(String what, long newTotal) {
        if (tty) {
            if (barShown) err.println();
            err.println(what + "...");
        } else {
            err.println(what + "...");
        }
        barShown = false;
        total = newTotal;
        done = 0;
        bytes = 0;
        err.flush();
    }

    void done() {
        if (tty && barShown) err.println();
        barShown = false;
        err.flush();
    }
}
