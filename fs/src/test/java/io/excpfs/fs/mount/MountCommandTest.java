package io.excpfs.fs.mount;

import io.excpfs.fs.cli.FlushCommand;
import io.excpfs.fs.cli.MountCommand;
import io.excpfs.fs.fuse.FuseMount;
import io.excpfs.fs.fuse.MountFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** {@code excpfs mount} as users run it: a background daemon, signals, unmount, kill -9, remount. */
@Tag("slow")
class MountCommandTest {
    @TempDir Path tmp;
    Path store, mnt;

    @BeforeEach
    void dirs() throws IOException {
        MountFixture.assumeFuse();
        store = tmp.resolve("store");
        mnt = Files.createDirectories(tmp.resolve("mnt"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        boolean wasMounted = FuseMount.isFuseMount(mnt.toRealPath());
        if (wasMounted) MountFixture.run(tmp, "fusermount", "-u", "-z", mnt.toString());
        Optional<ProcessHandle> d = daemon();
        if (d.isPresent()) {
            d.get().destroyForcibly();
            fail("mount daemon " + d.get().pid() + " left running");
        }
        assertFalse(wasMounted, "mount left behind at " + mnt);
    }

    private int mount(String... extra) {
        String[] args = new String[2 + extra.length];
        args[0] = store.toString();
        args[1] = mnt.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        return new CommandLine(new MountCommand()).execute(args);
    }

    /** The background process this test started for {@link #mnt} (found by its own command line). */
    private Optional<ProcessHandle> daemon() {
        String target = mnt.toAbsolutePath().normalize().toString();
        return ProcessHandle.allProcesses().filter(p -> {
            String[] a = p.info().arguments().orElse(new String[0]);
            List<String> args = Arrays.asList(a);
            return args.contains(MountCommand.class.getName()) && args.contains(target);
        }).findFirst();
    }

    private ProcessHandle awaitExit(ProcessHandle p) throws Exception {
        p.onExit().get(60, TimeUnit.SECONDS);
        return p;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void badOptionsAreRefusedWithExitCode2() {
        assertEquals(2, mount("-o", "alpha=-1"));
        assertEquals(2, mount("-o", "nosuchoption"));
        assertEquals(2, mount("-o", "allow_other=3"));
        assertFalse(FuseMount.isFuseMount(mnt));
    }

    @Test
    void daemonMountsUnmountsOnSigtermAndRemountKeepsEverything() throws Exception {
        assertEquals(0, mount("-o", "hot=2,keep_last=5"));
        assertTrue(FuseMount.isFuseMount(mnt.toRealPath()));
        ProcessHandle d = daemon().orElseThrow();
        assertTrue(Files.isDirectory(store.resolve("objects")), "the store was created");
        Files.createDirectories(mnt.resolve("run"));
        Files.write(mnt.resolve("run/ckpt.pt"), random(400_000, 1));
        Files.write(mnt.resolve("run/ckpt.pt"), random(400_000, 2));
        assertEquals(0, new CommandLine(new FlushCommand()).execute(mnt.toString()));
        assertEquals(1, mount(), "a second mount on the same point is refused");

        MountFixture.ok(tmp, "kill", "-TERM", Long.toString(d.pid()));
        awaitExit(d);
        assertFalse(FuseMount.isFuseMount(mnt.toRealPath()), "SIGTERM unmounts");
        assertTrue(Files.readString(store.resolve("excpfs.log")).contains("unmounted"), "clean shutdown logged");

        assertEquals(0, mount());
        assertArrayEquals(random(400_000, 2), Files.readAllBytes(mnt.resolve("run/ckpt.pt")));
        try (var s = Files.list(mnt.resolve(".excp/history/run"))) {
            assertEquals(1, s.count());
        }
        ProcessHandle d2 = daemon().orElseThrow();
        MountFixture.ok(tmp, "fusermount", "-u", mnt.toString());
        awaitExit(d2);
        assertFalse(FuseMount.isFuseMount(mnt.toRealPath()));
    }

    @Test
    void foregroundMountNotifiesSystemdWhenReadyAndExitsZeroOnUnmount() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/systemd-notify")),
                "systemd-notify missing");
        Path sock = tmp.resolve("notify.sock");
        Process listener = new ProcessBuilder("/usr/bin/python3", "-c", String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(120)",
                "print('bound', flush=True)",
                "print(s.recv(4096).decode().replace('\\n', ' '), flush=True)"), sock.toString())
                .redirectErrorStream(true).start();
        var lines = new java.io.BufferedReader(new java.io.InputStreamReader(listener.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("bound", lines.readLine());
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), MountCommand.class.getName(), store.toString(),
                mnt.toString(), "-f").redirectErrorStream(true).redirectOutput(tmp.resolve("fg.log").toFile());
        pb.environment().put("NOTIFY_SOCKET", sock.toString());
        Process fg = pb.start();
        try {
            String msg = lines.readLine();
            assertNotNull(msg, Files.readString(tmp.resolve("fg.log")));
            assertTrue(msg.contains("READY=1") && msg.contains("MAINPID=" + fg.pid()), msg);
            assertTrue(FuseMount.isFuseMount(mnt.toRealPath()), "ready means mounted");
            MountFixture.ok(tmp, "fusermount", "-u", mnt.toString());
            assertTrue(fg.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, fg.exitValue(), Files.readString(tmp.resolve("fg.log")));
        } finally {
            listener.destroy();
            fg.destroy();
        }
    }

    @Test
    void readOnlyMountServesTheStoreAndRefusesWrites() throws Exception {
        assertEquals(0, mount());
        Files.write(mnt.resolve("ckpt.pt"), random(1000, 1));
        ProcessHandle d = daemon().orElseThrow();
        MountFixture.ok(tmp, "fusermount", "-u", mnt.toString());
        awaitExit(d);

        assertEquals(0, mount("-o", "ro"));
        assertArrayEquals(random(1000, 1), Files.readAllBytes(mnt.resolve("ckpt.pt")));
        FileSystemException e = assertThrows(FileSystemException.class, () -> Files.write(mnt.resolve("x"), new byte[1]));
        assertEquals("Read-only file system", e.getReason());
        ProcessHandle d2 = daemon().orElseThrow();
        MountFixture.ok(tmp, "fusermount", "-u", mnt.toString());
        awaitExit(d2);
    }

    @Test
    void killMinus9KeepsSealedVersionsAndDropsUnclosedWrites() throws Exception {
        assertEquals(0, mount());
        ProcessHandle d = daemon().orElseThrow();
        Files.write(mnt.resolve("sealed.pt"), random(300_000, 1));
        FileChannel open = FileChannel.open(mnt.resolve("open.pt"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        open.write(ByteBuffer.wrap(random(100_000, 2)));

        MountFixture.ok(tmp, "kill", "-KILL", Long.toString(d.pid()));
        awaitExit(d);
        try {
            open.close();
        } catch (IOException expected) {
            // the daemon is gone: ENOTCONN
        }
        MountFixture.ok(tmp, "fusermount", "-u", "-z", mnt.toString());
        assertFalse(FuseMount.isFuseMount(mnt.toRealPath()));
        assertTrue(Files.list(store.resolve("staging")).findAny().isPresent(), "the crash left a staging file");

        assertEquals(0, mount());
        assertArrayEquals(random(300_000, 1), Files.readAllBytes(mnt.resolve("sealed.pt")));
        assertEquals(0, Files.size(mnt.resolve("open.pt")), "a file never closed keeps no unsealed data");
        assertFalse(Files.list(store.resolve("staging")).findAny().isPresent(), "recovery dropped staging");
        ProcessHandle d2 = daemon().orElseThrow();
        MountFixture.ok(tmp, "fusermount", "-u", mnt.toString());
        awaitExit(d2);
    }
}
