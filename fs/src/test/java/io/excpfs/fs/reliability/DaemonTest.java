package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What every suite that runs the mount daemon shares: skipped without FUSE, a fresh store and mount point per test,
 * the daemon log kept under the test's class name, and a failure when a mount or daemon is left behind.
 */
abstract class DaemonTest {
    @TempDir Path tmp;
    Path store, mnt, log;

    @BeforeEach
    void dirs() throws IOException {
        MountFixture.assumeFuse();
        store = tmp.resolve("store");
        mnt = tmp.resolve("mnt");
        log = Daemon.logFile(getClass().getSimpleName());
    }

    @AfterEach
    void nothingLeft() {
        if (mnt != null) Daemon.assertNothingLeft(mnt);
    }
}
