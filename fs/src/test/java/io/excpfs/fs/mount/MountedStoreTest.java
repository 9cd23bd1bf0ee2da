package io.excpfs.fs.mount;

import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.fuse.MountFixture;
import io.excpfs.fs.store.Store;
import io.excpfs.fs.store.StoreOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A fresh store with default options served through a real FUSE mount at {@code tmp/mnt} for each test, unmounted
 * afterwards even when the test failed. Skipped where FUSE is missing, or where {@link #assumeReady} says so.
 */
abstract class MountedStoreTest {
    @TempDir Path tmp;
    StoreFileSystem fs;
    FuseMount mount;
    Path mnt;

    /** Further assumptions checked before mounting (e.g. torch installed). */
    void assumeReady() {}

    @BeforeEach
    void mountIt() throws IOException {
        MountFixture.assumeFuse();
        assumeReady();
        fs = new StoreFileSystem(Store.open(tmp.resolve("store"), StoreOptions.defaults()));
        mnt = tmp.resolve("mnt");
        mount = MountFixture.mount(fs, mnt);
    }

    @AfterEach
    void unmountIt() {
        try {
            MountFixture.unmount(mount);
        } finally {
            if (fs != null) fs.close();
        }
    }
}
