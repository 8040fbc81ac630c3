// Glob: a compiled absolute path pattern of the rule language (docs/rules.md).
//
// Syntax, per path component (components are separated by '/'):
//   *       any run of bytes inside one component (also a leading '.')
//   ?       exactly one byte
//   [a-z]   one byte in the class; [!a-z] (or [^a-z]) one byte not in it;
//           a ']' right after '[' or '[!' is a literal ']'
//   **      a whole component only: zero or more components
//   \c      the byte c taken literally (for '*', '?', '[', '\')
// Paths and patterns are byte strings; no encoding is assumed.
//
// Compile() fails (kInvalidArgument, message "glob 'P': reason") on: a pattern
// that does not start with '/', an empty component ("//" or a trailing '/'),
// '**' that is not a whole component, an unterminated [class], a reversed
// range, a trailing '\', a '.' or '..' component, a NUL byte, more than
// kMaxGlobComponents components or more than kMaxGlobBytes bytes.
//
// Matching never recurses and never allocates: Matches() runs in
// O(path length x pattern length) in the worst case and linear time for the
// usual patterns.
//
// Thread-safety: immutable after Compile(); all methods are const and safe to
// call from many threads.
#ifndef DRIFTWATCH_RULES_GLOB_H_
#define DRIFTWATCH_RULES_GLOB_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/normal_path.h"
#include "core/status.h"

namespace driftwatch::rules {

// A pattern is a normal path (core/normal_path.h) before it is a glob.
inline constexpr size_t kMaxGlobComponents = kMaxPathComponents;
inline constexpr size_t kMaxGlobBytes = kMaxPathBytes;

class Glob {
 public:
  static Result<Glob> Compile(std::string_view pattern);

  // `path` is absolute and normalized: no trailing '/', no empty, '.' or '..'
  // components; "/" is the root. Anything else never matches.
  bool Matches(std::string_view path) const;

  // True when some path strictly below directory `dir` could match. Exact for
  // patterns whose classes are satisfiable (conservative otherwise).
  bool CouldMatchBelow(std::string_view dir) const;

  // True when every path strictly below `dir` matches (e.g. "/var/cache/**"
  // for dir "/var/cache" or "/var/cache/apt").
  bool MatchesAllBelow(std::string_view dir) const;

  // The leading components without wildcards, unescaped, as a path: "/etc"
  // for "/etc/**/*.conf", "/" for "/**". For a pattern without any wildcard
  // it is the whole (unescaped) path.
  std::string_view literal_prefix() const { return literal_prefix_; }
  const std::string& pattern() const { return pattern_; }

  // Specificity inputs (see docs/rules.md, "Precedence").
  bool is_literal() const { return is_literal_; }  // no wildcard at all
  // Components of literal_prefix() (0 for "/", 2 for "/etc/ssh").
  uint32_t literal_components() const { return literal_components_; }
  // Bytes matched literally anywhere in the pattern, separators excluded.
  uint32_t literal_bytes() const { return literal_bytes_; }
  uint32_t double_stars() const { return double_stars_; }

 private:
  struct Token {
    enum Kind : uint8_t { kChar, kAny, kStar, kClass };
    Kind kind;
    uint8_t ch;    // kChar
    uint16_t cls;  // kClass: index into classes_
  };
  struct Segment {
    enum Kind : uint8_t { kLiteral, kPattern, kDoubleStar };
    Kind kind;
    std::string literal;  // kLiteral, unescaped
    uint32_t tok_begin;   // kPattern: [tok_begin, tok_end) in tokens_
    uint32_t tok_end;
  };

  Glob() = default;
  bool SegmentMatches(const Segment& seg, std::string_view component) const;
  bool TokenMatches(const Token& t, unsigned char c) const;
  // Runs the pattern over the components of `dir` as a prefix and reports
  // whether some state has pattern left (could) or only '**' left (all).
  void BelowStates(std::string_view dir, bool* could, bool* all) const;

  std::string pattern_;
  std::string literal_prefix_;
  std::vector<Segment> segments_;
  std::vector<Token> tokens_;
  std::vector<std::bitset<256>> classes_;
  bool is_literal_ = false;
  uint32_t literal_components_ = 0;
  uint32_t literal_bytes_ = 0;
  uint32_t double_stars_ = 0;
};

}  // namespace driftwatch::rules

#endif  // DRIFTWATCH_RULES_GLOB_H_
