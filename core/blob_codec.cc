#include "core/blob_codec.h"

#include <zstd.h>

#include <memory>
#include <string>
#include <string_view>

namespace driftwatch {
namespace {

// Level 3 is zstd's default: config files compress well at it, and the
// scanner compresses every kept file it reads.
constexpr int kLevel = 3;

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// True when `frame` starts with the magic number of a zstd data frame
// (skippable frames hold no content and are refused).
bool HasZstdMagic(std::string_view frame) {
  if (frame.size() < 4) return false;
  uint32_t magic = static_cast<uint8_t>(frame[0]) | static_cast<uint8_t>(frame[1]) << 8 |
                   static_cast<uint8_t>(frame[2]) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(frame[3])) << 24;
  return magic == ZSTD_MAGICNUMBER;
}

Status TooLarge(unsigned long long size, size_t max_bytes) {
  return Status::ResourceExhausted(
      "blob: decompresses to " +
      (size == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("more than") : std::to_string(size)) +
      " bytes, over the limit of " + std::to_string(max_bytes));
}

// A frame without a recorded size (written by other tools): decoded in
// steps, stopping as soon as the output passes max_bytes.
Result<std::string> DecompressStreaming(std::string_view frame, size_t max_bytes) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return Status::ResourceExhausted("blob: cannot allocate a zstd context");
  std::string out;
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  size_t ret = 1;
  while (in.pos < in.size || ret != 0) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    size_t before = in.pos;
    ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(ret)) {
      return Status::Corruption(std::string("blob: not a valid zstd frame: ") +
                                ZSTD_getErrorName(ret));
    }
    if (out.size() + o.pos > max_bytes) return TooLarge(ZSTD_CONTENTSIZE_UNKNOWN, max_bytes);
    out.append(chunk.data(), o.pos);
    if (ret != 0 && in.pos == in.size && o.pos == 0 && before == in.pos) {
      return Status::Corruption("blob: zstd frame is cut short");
    }
  }
  return out;
}

}  // namespace

Result<std::string> CompressBlob(std::string_view raw) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return Status::ResourceExhausted("blob: cannot allocate a zstd context");
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  // The checksum lets DecompressBlob tell a damaged blob from a good one.
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kLevel)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1))) {
    return Status::Internal("blob: zstd refused its parameters");
  }
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) {
    return Status::Internal(std::string("blob: zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

Result<std::string> DecompressBlob(std::string_view frame, size_t max_bytes) {
  if (!HasZstdMagic(frame)) {
    return Status::Corruption("blob: expected a zstd frame (magic 28 b5 2f fd), got " +
                              std::to_string(frame.size()) + " bytes without it");
  }
  size_t whole = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(whole)) {
    return Status::Corruption(std::string("blob: not a whole zstd frame: ") +
                              ZSTD_getErrorName(whole));
  }
  if (whole != frame.size()) {
    return Status::Corruption("blob: " + std::to_string(frame.size() - whole) +
                              " bytes after the zstd frame; expected exactly one frame");
  }
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("blob: bad zstd frame header");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) return DecompressStreaming(frame, max_bytes);
  if (size > max_bytes) return TooLarge(size, max_bytes);
  std::string out(static_cast<size_t>(size), '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    return Status::Corruption(std::string("blob: zstd frame does not decode: ") +
                              ZSTD_getErrorName(n));
  }
  if (n != size) {
    return Status::Corruption("blob: zstd frame says " + std::to_string(size) +
                              " bytes but holds " + std::to_string(n));
  }
  return out;
}

}  // namespace driftwatch
