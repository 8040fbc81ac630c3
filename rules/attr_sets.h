// Built-in attribute sets of the rule language (docs/rules.md, "Attribute
// sets"). A set is a named mask of Attr bits (core/entry.h); every set
// includes kAttrType.
//
// Thread-safety: constant data.
#ifndef DRIFTWATCH_RULES_ATTR_SETS_H_
#define DRIFTWATCH_RULES_ATTR_SETS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace driftwatch::rules {

struct AttrSet {
  std::string_view name;
  uint32_t mask;
};

// presence, permissions, content, log, full (in that order).
std::span<const AttrSet> BuiltinSets();

// The mask of the built-in set `name`, or nullopt.
std::optional<uint32_t> BuiltinSet(std::string_view name);

// The set a rule checks when it names none: "content".
inline constexpr std::string_view kDefaultSet = "content";

}  // namespace driftwatch::rules

#endif  // DRIFTWATCH_RULES_ATTR_SETS_H_
