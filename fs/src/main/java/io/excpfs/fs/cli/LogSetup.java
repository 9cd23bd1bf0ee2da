package io.excpfs.fs.cli;

import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * {@code --log-level}: every command logs to stderr, one line per event. Under systemd (JOURNAL_STREAM set) each
 * line carries a syslog priority prefix such as {@code <6>}, so journald records the right level.
 */
public final class LogSetup {
    private static final boolean JOURNAL = System.getenv("JOURNAL_STREAM") != null;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "error, warn, info or debug (default: warn); logs go to stderr, one line per event")
    void level(String name) {
        configure(parse(name));
    }

    static Level parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn", "warning" -> Level.WARNING;
            case "info" -> Level.INFO;
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            default -> throw new picocli.CommandLine.TypeConversionException("--log-level: expected error, warn, info or debug, got '" + name + "'");
        };
    }

    /** Routes java.util.logging (and System.Logger) to stderr at {@code level}. */
    public static void configure(Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) root.removeHandler(h);
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) {
                if (!isLoggable(r)) return;
                System.err.print(getFormatter().format(r));
                System.err.flush();
            }

            @Override public void flush() { System.err.flush(); }

            @Override public void close() { }
        };
        h.setLevel(level);
        h.setFormatter(new OneLine());
        root.addHandler(h);
        root.setLevel(level);
    }

    private static final class OneLine extends Formatter {
        @Override public String format(LogRecord r) {
            String msg = formatMessage(r).replace('\n', ' ');
            if (r.getThrown() != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) msg += " (" + r.getThrown() + ")";
            String lvl = r.getLevel() == Level.SEVERE ? "ERROR" : r.getLevel() == Level.WARNING ? "WARN"
                    : r.getLevel() == Level.INFO ? "INFO" : "DEBUG";
            if (JOURNAL) {
                int prio = r.getLevel() == Level.SEVERE ? 3 : r.getLevel() == Level.WARNING ? 4 : r.getLevel() == Level.INFO ? 6 : 7;
                return "<" + prio + ">" + r.getLoggerName() + ": " + msg + System.lineSeparator();
            }
            return lvl + " " + r.getLoggerName() + ": " + msg + System.lineSeparator();
        }
    }
}
