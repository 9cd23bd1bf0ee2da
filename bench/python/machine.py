"""One line describing the machine a benchmark ran on: cores, CPU, memory, the disk under a path, the load average.

  machine.py [PATH]     (PATH: where the benchmark's files live; default /tmp)
"""
import os
import platform
import subprocess
import sys


def describe(path="/tmp"):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    try:
        src, fstype = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "--target", path],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout.split()[:2]
    except (OSError, subprocess.CalledProcessError, ValueError):
        src, fstype = "?", "?"
    rot = ""
    dev = os.path.basename(src)
    try:
        with open(f"/sys/block/{dev}/queue/rotational") as f:
            rot = ", rotational" if f.read().strip() == "1" else ", non-rotational"
    except OSError:
        pass
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 2**20:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, disk {src} ({fstype}{rot}) under {path}, load average {load}")


if __name__ == "__main__":
    print(describe(sys.argv[1] if len(sys.argv) > 1 else "/tmp"))
