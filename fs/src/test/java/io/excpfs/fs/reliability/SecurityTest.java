package io.excpfs.fs.reliability;

import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.excpfs.fs.fuse.MountFixture.ok;
import static io.excpfs.fs.fuse.MountFixture.run;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The store directory is private, its names never come from user paths, symlinks are not followed, permissions hold. */
@Tag("slow")
class SecurityTest extends DaemonTest {
    static final String USER = "excpfsrel";
    static final Set<String> STORE_NAMES = Set.of("excpfs.db", "excpfs.db-wal", "excpfs.db-shm", "lock", "objects",
            "staging", "excpfs.log");
    static final Pattern OBJECT = Pattern.compile("[0-9a-f]{2}/[0-9a-f]{32}\\.(raw|sum|excp)");


    @Test
    void storeIsPrivateAndItsNamesNeverComeFromUserPaths() throws Exception {
        List<String> hostile = List.of("objects", "excpfs.db", "excpfs.db-wal", "lock", "staging", "excpfs.log", "..x",
                "...", "-rf", " ", "a\\b", "nested/objects/00/00000000000000000000000000000000.raw", "nested/staging/x", "nested/lock/excpfs.db");
        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store)));
            for (String name : hostile) {
                Path p = mnt.resolve(name);
                if (!Files.isDirectory(p.getParent())) Files.createDirectories(p.getParent());
                if (Files.isDirectory(p)) continue;
                Files.writeString(p, "user data " + name);
            }
            ok(mnt, "ln", "-s", "../../..", "up");
            d.unmount();
        }
        Set<String> top = new TreeSet<>();
        try (Stream<Path> s = Files.list(store)) {
            s.forEach(p -> top.add(p.getFileName().toString()));
        }
        assertTrue(STORE_NAMES.containsAll(top), "only the store's own names at the top: " + top);
        try (Stream<Path> s = Files.walk(store.resolve("objects"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = store.resolve("objects").relativize(p).toString();
                assertTrue(OBJECT.matcher(rel).matches(), "object named by id only: " + rel);
            }
        }
        try (Stream<Path> s = Files.list(store.resolve("staging"))) {
            assertEquals(List.of(), s.toList(), "no staging file left");
        }
        assertEquals(0, Daemon.verify(store, true).exitCode());
        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            for (String name : hostile) {
                Path p = mnt.resolve(name);
                if (Files.isRegularFile(p)) assertEquals("user data " + name, Files.readString(p));
            }
            assertEquals("../../..", Files.readSymbolicLink(mnt.resolve("up")).toString());
            d.unmount();
        }
    }

    @Test
    void symlinksToTheStoreAreNeverFollowedByExcpfs() throws Exception {
        try (Daemon d = Daemon.start(store, mnt, log, "hot=1")) {
            Files.writeString(mnt.resolve("real.txt"), "mine");
            Files.createSymbolicLink(mnt.resolve("store-link"), store);
            Files.createSymbolicLink(mnt.resolve("db-link"), store.resolve("excpfs.db"));
            assertTrue(Files.isSymbolicLink(mnt.resolve("store-link")));
            assertEquals(store.toString(), ok(mnt, "readlink", "store-link").strip());
            assertEquals(Integer.toString(store.resolve("excpfs.db").toString().length()),
                    ok(mnt, "stat", "-c", "%s", "--", "db-link").strip(), "lstat answers for the link, not its target");
            ok(mnt, "mv", "store-link", "moved-link");
            ok(mnt, "chown", "-h", "1:1", "moved-link");
            py("import os,sys; print(os.listxattr(sys.argv[1], follow_symlinks=False))", mnt.resolve("moved-link").toString());
            ok(mnt, "rm", "-rf", "--", mnt.resolve("moved-link").toString(), mnt.resolve("db-link").toString());
            ok(mnt, "sh", "-c", "echo > .excp/flush");
            assertTrue(Files.exists(store.resolve("excpfs.db")), "unlinking a symlink to the store left the store alone");
            assertEquals(List.of("real.txt"), List.of(ok(mnt, "ls").strip().split("\n")));
            d.unmount();
        }
        assertEquals(0, Daemon.verify(store, true).exitCode(), "the store is intact");
        try (Stream<Path> s = Files.list(store)) {
            assertTrue(s.noneMatch(p -> Files.isSymbolicLink(p)), "no symlink made inside the store");
        }
    }

    @Test
    void allowOtherWithDefaultPermissionsEnforcesModesForASecondUser() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to create and switch users");
        if (run(tmp, "id", USER).exitCode() != 0) ok(tmp, "useradd", "--no-create-home", "--shell", "/bin/sh", USER);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Daemon d = Daemon.start(store, mnt, log, "allow_other,default_permissions")) {
            Files.writeString(mnt.resolve("private.txt"), "secret");
            Files.setPosixFilePermissions(mnt.resolve("private.txt"), PosixFilePermissions.fromString("rw-------"));
            Files.writeString(mnt.resolve("public.txt"), "hello");
            Files.setPosixFilePermissions(mnt.resolve("public.txt"), PosixFilePermissions.fromString("rw-r--r--"));
            Files.createDirectories(mnt.resolve("closed"));
            Files.setPosixFilePermissions(mnt.resolve("closed"), PosixFilePermissions.fromString("rwx------"));
            Files.writeString(mnt.resolve("closed/inside.txt"), "x");
            Files.createDirectories(mnt.resolve("theirs"));
            ok(mnt, "chown", USER, "theirs");

            assertEquals("hello", as("cat public.txt"));
            assertDenied("cat private.txt");
            assertDenied("echo overwrite > public.txt");
            assertDenied("ls closed");
            assertDenied("cat closed/inside.txt");
            assertDenied("touch new.txt");
            assertDenied("rm public.txt");
            assertDenied("mv public.txt theirs/");
            assertDenied("chmod 666 public.txt");
            as("echo mine > theirs/f.txt && chmod 600 theirs/f.txt");
            assertEquals(USER + " 600", ok(mnt, "stat", "-c", "%U %a", "theirs/f.txt").strip(), "owned by its creator");
            assertEquals("mine", as("cat theirs/f.txt"));
            assertEquals("secret", Files.readString(mnt.resolve("private.txt")), "untouched by the denied writes");
            assertEquals("hello", Files.readString(mnt.resolve("public.txt")));
            d.unmount();
        }
    }

    private String as(String shell) throws IOException {
        return ok(mnt, "runuser", "-u", USER, "--", "sh", "-c", shell).strip();
    }

    private void assertDenied(String shell) throws IOException {
        MountFixture.Result r = run(mnt, "runuser", "-u", USER, "--", "sh", "-c", shell);
        assertNotEquals(0, r.exitCode(), shell + " was allowed: " + r.output());
        assertTrue(r.output().contains("Permission denied") || r.output().contains("Operation not permitted"),
                shell + ": " + r.output());
    }

    private String py(String script, String... args) throws IOException {
        String[] cmd = new String[3 + args.length];
        cmd[0] = "/usr/bin/python3";
        cmd[1] = "-c";
        cmd[2] = script;
        System.arraycopy(args, 0, cmd, 3, args.length);
        return ok(tmp, cmd).strip();
    }
}
