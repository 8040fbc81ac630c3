// Include paths of the rule language: how `include: x.yaml` in one rule file
// names another (docs/rules.md, "Includes"). Pure string functions.
//
// Thread-safety: stateless.
#ifndef DRIFTWATCH_RULES_INCLUDE_PATH_H_
#define DRIFTWATCH_RULES_INCLUDE_PATH_H_

#include <string>
#include <string_view>

namespace driftwatch::rules {

// Lexical normalization: drops "." and empty components and folds "x/..";
// ".." above the root of an absolute path is dropped. "" becomes ".".
std::string NormalizePath(std::string_view path);

// The file that `include` (as written in `including`) names: an absolute
// include as is, a relative one joined to the directory of `including`;
// both normalized.
std::string ResolveInclude(const std::string& including, const std::string& include);

}  // namespace driftwatch::rules

#endif  // DRIFTWATCH_RULES_INCLUDE_PATH_H_
