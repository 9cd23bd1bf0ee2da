package io.excpfs.codec;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.zip.CRC32C;

/**
 * Identity of a base reconstruction, stored in every residual object so that decoding against the wrong base fails
 * instead of returning wrong bytes: CRC32C over the skeleton, then over each region's payload in layout order.
 * Reconstructions are immutable, so the value is remembered per instance (weakly): the base a residual is encoded
 * against is usually the very object the next decode or encode is handed.
 */
final class BaseFingerprint {
    private static final Map<Reconstruction, Integer> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private BaseFingerprint() {}

    static int of(Reconstruction base) {
        Integer known = KNOWN.get(base);
        if (known != null) return known;
        CRC32C crc = new CRC32C();
        crc.update(base.skeleton());
        for (TensorRegion r : base.layout().regions()) crc.update(base.region(r.key()));
        int value = (int) crc.getValue();
        KNOWN.put(base, value);
        return value;
    }
}
