package io.excpfs.fs.store;

import io.excpfs.codec.EncodeStats;

/**
 * What the encoder measured when it demoted one version, kept for {@code excpfs report}.
 *
 * @param params PARAM-role float elements of the version's layout (its parameters, whether coded lossy or not)
 * @param stats  the codec's figures; raw and stored bytes are the version's
 */
public record EncodeFigures(long params, EncodeStats stats) {}
