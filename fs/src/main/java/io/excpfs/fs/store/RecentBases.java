package io.excpfs.fs.store;

import io.excpfs.codec.Reconstruction;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reconstructions of recent versions, least recently used evicted first, weighed in bytes. The store's stand-in
 * until the cache module's Caffeine cache is wired in; chains are resolved iteratively by the caller.
 */
final class RecentBases {
    private final long maxBytes;
    private final LinkedHashMap<Long, Reconstruction> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    RecentBases(long maxBytes) { this.maxBytes = maxBytes; }

    synchronized Reconstruction get(long versionId) { return entries.get(versionId); }

    synchronized void put(long versionId, Reconstruction r) {
        long w = r.weightBytes();
        if (w > maxBytes) return;
        Reconstruction old = entries.put(versionId, r);
        if (old != null) bytes -= old.weightBytes();
        bytes += w;
        Iterator<Map.Entry<Long, Reconstruction>> it = entries.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Map.Entry<Long, Reconstruction> e = it.next();
            if (e.getKey() == versionId) continue;
            bytes -= e.getValue().weightBytes();
            it.remove();
        }
    }

    synchronized void invalidate(long versionId) {
        Reconstruction old = entries.remove(versionId);
        if (old != null) bytes -= old.weightBytes();
    }
}
