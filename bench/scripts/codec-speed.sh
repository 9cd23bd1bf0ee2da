#!/bin/sh
# Codec speed per core (thread CPU time) and ratio on a real checkpoint: two torch.save files of a GPT (model +
# AdamW state, bench/python/tinygpt.py at PRESET, steps 5 and 6 of one run), then
#   RealCodecRun: seed encode / seed decode / residual encode / residual decode, MB/s per core, seed and residual ratio
#   KernelTable codec: the same on the 64 MB synthetic checkpoint of CodecBenchmarks
# Both with -Dexcpfs.decodeThreads=1, so that the calling thread does all of a decode (with the default pool the
# thread CPU time covers only the caller's share). Build first: mvn -o -q -pl codec,bench -am package -DskipTests
# Environment: PRESET=medium (19M parameters, 229 MB files) WORK=/tmp/excpfs-codec-speed CALLS=5
#              CODEC_CLASSES=dir-or-jar (another codec build, e.g. a copy of codec/target/classes from main, for a
#              before/after table; its objects are what the runs decode)
set -e
here=$(cd "$(dirname "$0")/../.." && pwd)
PRESET=${PRESET:-medium}
WORK=${WORK:-/tmp/excpfs-codec-speed}
CALLS=${CALLS:-5}
mkdir -p "$WORK"
if [ ! -f "$WORK/ckpt6.pt" ]; then
  /usr/bin/python3 - "$here/bench/python" "$PRESET" "$WORK" <<'PYEOF'
import sys, torch
sys.path.insert(0, sys.argv[1])
import tinygpt
preset, out = sys.argv[2], sys.argv[3]
tinygpt.setup_torch()
margs = tinygpt.model_args(preset)
torch.manual_seed(1)
model = tinygpt.GPT(margs)
opt = tinygpt.make_optimizer(model, 1e-3)
bs = tinygpt.PRESETS[preset]["batch_size"]
for step in range(1, 7):
    x, y = tinygpt.batch(1, step, bs, margs["block_size"])
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if step >= 5:
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": step}, f"{out}/ckpt{step}.pt")
PYEOF
fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$here/bench/scripts/run.sh" -Xmx8g -Dexcpfs.decodeThreads=1 io.excpfs.bench.RealCodecRun "$CALLS" "$WORK/ckpt5.pt" "$WORK/ckpt6.pt"
echo
"$here/bench/scripts/run.sh" -Xmx6g -Dexcpfs.decodeThreads=1 io.excpfs.bench.KernelTable 3 codec 2>/dev/null
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
