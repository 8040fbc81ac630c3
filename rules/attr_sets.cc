#include "rules/attr_sets.h"

#include <array>

#include "core/entry.h"

namespace driftwatch::rules {
namespace {

constexpr uint32_t kPresence = kAttrType;
constexpr uint32_t kPermissions =
    kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrLink | kAttrXattrs;
constexpr uint32_t kContent = kPermissions | kAttrSize | kAttrHash | kAttrRdev;
constexpr uint32_t kLog = kPermissions | kAttrGrowing;
// Everything but `growing`: any write, rename over, hard link or inode
// change shows.
constexpr uint32_t kFull = kContent | kAttrMtime | kAttrCtime | kAttrInode | kAttrNlink;

constexpr std::array<AttrSet, 5> kBuiltins = {{
    {"presence", kPresence},
    {"permissions", kPermissions},
    {"content", kContent},
    {"log", kLog},
    {"full", kFull},
}};

}  // namespace

std::span<const AttrSet> BuiltinSets() { return kBuiltins; }

std::optional<uint32_t> BuiltinSet(std::string_view name) {
  for (const AttrSet& s : kBuiltins) {
    if (s.name == name) return s.mask;
  }
  return std::nullopt;
}

}  // namespace driftwatch::rules
