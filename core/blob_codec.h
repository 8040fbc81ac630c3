// The compression of kept content (docs/content.md): zstd frames, so that
// any zstd(1) can read a blob taken out of a store.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_BLOB_CODEC_H_
#define DRIFTWATCH_CORE_BLOB_CODEC_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch {

// One zstd frame holding `raw` (its size recorded in the frame header).
Result<std::string> CompressBlob(std::string_view raw);

// The bytes of one zstd frame. kCorruption for anything that is not one
// whole, valid frame; kResourceExhausted when it would decompress to more
// than max_bytes (checked before any large allocation).
Result<std::string> DecompressBlob(std::string_view frame, size_t max_bytes);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_BLOB_CODEC_H_
