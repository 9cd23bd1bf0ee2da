package io.excpfs.fs.cli;

/** Exit codes of every command; documented in docs/cli.md. */
final class ExitCode {
    static final int OK = 0;
    /** verify found problems; import/export finished but some files failed. */
    static final int PROBLEMS = 1;
    /** Bad command line or option value (picocli's usage error code). */
    static final int USAGE = 2;
    /** The store cannot be opened: not a store, newer format, or in use by another writer. */
    static final int STORE = 3;
    /** An I/O error stopped the command. */
    static final int IO = 4;

    private ExitCode() {}
}
