/**
 * Checkpoint container formats: detection by content and the skeleton + regions model of each file. The one public
 * entry point is {@link io.excpfs.codec.format.CheckpointParser#parse}, reached through
 * {@link io.excpfs.codec.Formats#parse}.
 *
 * <h2>Detection (first match wins)</h2>
 * <ol>
 *   <li>{@code \x93NUMPY} → .npy</li>
 *   <li>{@code PK\x03\x04} / {@code PK\x05\x06} → zip: exactly one {@code <top>/data.pkl} → torch.save zip; only
 *       {@code *.npy} members → .npz; any other zip → opaque</li>
 *   <li>a pickle of the integer {@code 0x1950a86a20f9469cfc6c} → legacy torch.save</li>
 *   <li>u64 LE header length followed by {@code '{'} → safetensors</li>
 *   <li>anything else → opaque</li>
 * </ol>
 * A file that matches but does not parse completely is opaque, with a note naming the problem and its offset.
 *
 * <h2>Regions</h2>
 * <ul>
 *   <li>safetensors: one region per tensor (logical shape), in header order; {@code __metadata__} → metadata.</li>
 *   <li>torch zip and legacy: one region per storage. Key = first key path (pickle order) of a tensor using it;
 *       other key paths → aliases; a tensor saved on its own ({@code torch.save(t)}) has key path {@code tensor}. Shape = the tensors' shape when every tensor using the storage is the same
 *       contiguous view of all of it, else the flat element count. Empty storages, storages of types the codec
 *       does not know ({@link io.excpfs.codec.DType#OTHER}: complex, quantized, fp8), storages whose tensors
 *       disagree on the type, storages no recognised tensor uses, and compressed data entries stay skeleton.</li>
 *   <li>npy: one region {@code array}; npz: one region per stored member (name without {@code .npy}); deflated
 *       members and dtypes other than {@code <f2 <f4 <f8 <i2 <i4 <i8 |i1 |u1 |b1} stay skeleton. Object and
 *       structured arrays are opaque.</li>
 * </ul>
 * Every zip entry that holds a region gets a {@link io.excpfs.codec.CrcPatch} listing its central-directory CRC
 * field, its local-header CRC field (when that holds the CRC, i.e. no data descriptor) and its data-descriptor CRC
 * field (when present). The parser checks each such entry's CRC-32 against its data: an entry that already fails
 * is corrupt and the whole file is opaque, so that a corrupt file comes back exactly (a patch would "repair" it).
 * A stored CRC of 0 over non-zero data (torch >= 2.5 with {@code compute_crc32} off) gets no patch and stays 0.
 *
 * <p>Metadata {@code #tensor_order}: every tensor key path in object order, as a JSON array of strings (regions
 * are sorted by offset, and torch writes storages sorted by key as text, so offset order is not state_dict order).
 *
 * <h2>Pickle</h2>
 * {@link io.excpfs.codec.format.PickleMachine} runs protocols 0..5 without executing anything: globals are
 * symbols; only {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor[_v2|_v3]},
 * {@code _rebuild_parameter[_with_state]}, {@code torch._tensor._rebuild_from_type_v2} (one level) and
 * {@code ('storage', type, key, location, numel)} persistent ids are understood. Limits: 4 M pushes, marks and
 * memo stores together per pickle,
 * 256 MB of pickle, LONG4 up to 4096 bytes, text arguments up to 4096 bytes, every length checked against the
 * bytes present. {@link io.excpfs.codec.format.ObjectWalk} names tensors by key path with a depth bound of 200
 * and at most 2 M nodes, key paths of at most 4096 characters and 256 M characters in all; a container shared through the memo (or a cycle) is walked once only, so the walk is
 * linear; tensors are recorded at every key path that reaches them. Metadata: numbers, booleans, None, strings up
 * to 512 chars, and lists/tuples of numbers (up to 65536 elements) rendered like Python ({@code [0, 1, 2]},
 * {@code 1e-08}); at most 20000 entries and 8 M characters.
 */
package io.excpfs.codec.format;
