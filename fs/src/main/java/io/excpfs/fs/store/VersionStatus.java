package io.excpfs.fs.store;

/** Whether a version is visible, and how. */
public enum VersionStatus {
    /** The current content of a path. */
    LIVE,
    /** Overwritten, replaced or deleted; readable from the history while retention keeps it. */
    HISTORY,
    /** Dropped by retention but still the base of a kept version: not listed, still stored. */
    HIDDEN
}
