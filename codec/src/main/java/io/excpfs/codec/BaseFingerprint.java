package io.excpfs.codec;

import java.util.zip.CRC32C;

/**
 * Identity of a base reconstruction, stored in every residual object so that decoding against the wrong base fails
 * instead of returning wrong bytes: CRC32C over the skeleton, then over each region's payload in layout order.
 */
final class BaseFingerprint {
    private BaseFingerprint() {}

    static int of(Reconstruction base) {
        CRC32C crc = new CRC32C();
        crc.update(base.skeleton());
        for (TensorRegion r : base.layout().regions()) crc.update(base.region(r.key()));
        return (int) crc.getValue();
    }
}
