#include "rules/glob.h"

#include <cstring>

namespace driftwatch::rules {
namespace {

Status GlobError(std::string_view pattern, std::string_view reason) {
  std::string m = "glob '";
  m.append(pattern);
  m += "': ";
  m.append(reason);
  return Status::InvalidArgument(std::move(m));
}

// Calls fn(component) for each component of an absolute path ("/" has none).
// Stops and returns false as soon as fn returns false.
template <typename Fn>
bool ForEachComponent(std::string_view path, Fn&& fn) {
  std::string_view body = path.substr(1);
  if (body.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t end = body.find('/', start);
    if (end == std::string_view::npos) return fn(body.substr(start));
    if (!fn(body.substr(start, end - start))) return false;
    start = end + 1;
  }
}

}  // namespace

Result<Glob> Glob::Compile(std::string_view pattern) {
  // A pattern is first a normal path (core/normal_path.h): the same rules
  // the collector applies to the paths it asks agents to accept.
  if (Status s = CheckNormalPath(pattern); !s.ok()) {
    return GlobError(pattern.size() > kMaxGlobBytes ? pattern.substr(0, 64) : pattern, s.message());
  }
  Glob g;
  g.pattern_ = std::string(pattern);
  bool prefix_open = true;  // still inside the leading literal components
  if (pattern.size() > 1) {
    std::string_view body = pattern.substr(1);
    size_t start = 0;
    while (start <= body.size()) {
      size_t end = body.find('/', start);
      if (end == std::string_view::npos) end = body.size();
      std::string_view comp = body.substr(start, end - start);
      start = end + 1;
      Segment seg{Segment::kLiteral, {}, 0, 0};
      if (comp == "**") {
        seg.kind = Segment::kDoubleStar;
        ++g.double_stars_;
        prefix_open = false;
        g.segments_.push_back(std::move(seg));
        continue;
      }
      const size_t tok_begin = g.tokens_.size();
      bool wild = false;
      std::string literal;
      for (size_t i = 0; i < comp.size(); ++i) {
        const char c = comp[i];
        if (c == '\\') {
          if (i + 1 == comp.size()) return GlobError(pattern, "trailing '\\'");
          ++i;
          literal.push_back(comp[i]);
          g.tokens_.push_back({Token::kChar, static_cast<uint8_t>(comp[i]), 0});
        } else if (c == '*') {
          if (i + 1 < comp.size() && comp[i + 1] == '*') {
            return GlobError(pattern, "'**' must be a whole path component");
          }
          wild = true;
          g.tokens_.push_back({Token::kStar, 0, 0});
        } else if (c == '?') {
          wild = true;
          g.tokens_.push_back({Token::kAny, 0, 0});
        } else if (c == '[') {
          std::bitset<256> cls;
          size_t j = i + 1;
          bool negate = false;
          if (j < comp.size() && (comp[j] == '!' || comp[j] == '^')) {
            negate = true;
            ++j;
          }
          bool first = true;
          bool closed = false;
          while (j < comp.size()) {
            unsigned char lo = static_cast<unsigned char>(comp[j]);
            if (lo == ']' && !first) {
              closed = true;
              break;
            }
            first = false;
            if (lo == '\\') {
              if (j + 1 == comp.size()) break;  // reported as unterminated
              lo = static_cast<unsigned char>(comp[++j]);
            }
            ++j;
            unsigned char hi = lo;
            if (j + 1 < comp.size() && comp[j] == '-' && comp[j + 1] != ']') {
              j += 1;
              hi = static_cast<unsigned char>(comp[j]);
              if (hi == '\\') {
                if (j + 1 == comp.size()) break;
                hi = static_cast<unsigned char>(comp[++j]);
              }
              ++j;
              if (hi < lo) {
                return GlobError(pattern, std::string("reversed range '") + static_cast<char>(lo) +
                                              "-" + static_cast<char>(hi) + "' in character class");
              }
            }
            for (unsigned v = lo; v <= hi; ++v) cls.set(v);
          }
          if (!closed) return GlobError(pattern, "unterminated character class '['");
          if (negate) cls.flip();
          cls.reset('/');
          if (g.classes_.size() >= 0xffff) return GlobError(pattern, "too many character classes");
          g.classes_.push_back(cls);
          g.tokens_.push_back({Token::kClass, 0, static_cast<uint16_t>(g.classes_.size() - 1)});
          wild = true;
          i = j;
        } else {
          literal.push_back(c);
          g.tokens_.push_back({Token::kChar, static_cast<uint8_t>(c), 0});
        }
      }
      if (!wild) {
        // Escapes may spell "." or ".." ("\\.") where the raw check saw none.
        if (Status s = CheckPathComponent(literal); !s.ok()) return GlobError(pattern, s.message());
        g.tokens_.resize(tok_begin);
        g.literal_bytes_ += static_cast<uint32_t>(literal.size());
        if (prefix_open) {
          g.literal_prefix_ += '/';
          g.literal_prefix_ += literal;
          ++g.literal_components_;
        }
        seg.literal = std::move(literal);
      } else {
        prefix_open = false;
        seg.kind = Segment::kPattern;
        seg.tok_begin = static_cast<uint32_t>(tok_begin);
        seg.tok_end = static_cast<uint32_t>(g.tokens_.size());
        for (size_t t = tok_begin; t < g.tokens_.size(); ++t) {
          if (g.tokens_[t].kind == Token::kChar) ++g.literal_bytes_;
        }
      }
      g.segments_.push_back(std::move(seg));
    }
  }
  if (g.literal_prefix_.empty()) g.literal_prefix_.assign(1, '/');
  g.is_literal_ = prefix_open;
  return g;
}

bool Glob::TokenMatches(const Token& t, unsigned char c) const {
  switch (t.kind) {
    case Token::kChar:
      return t.ch == c;
    case Token::kAny:
      return true;
    case Token::kClass:
      return classes_[t.cls].test(c);
    case Token::kStar:
      return false;
  }
  return false;
}

bool Glob::SegmentMatches(const Segment& seg, std::string_view s) const {
  if (seg.kind == Segment::kLiteral) return seg.literal == s;
  if (seg.kind == Segment::kDoubleStar) return true;
  // Greedy match with backtracking to the last '*' only: correct because a
  // '*' matches any run, so an earlier '*' never needs to be revisited.
  const Token* t = tokens_.data() + seg.tok_begin;
  const size_t nt = seg.tok_end - seg.tok_begin;
  size_t ti = 0, si = 0, star_t = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (ti < nt && t[ti].kind == Token::kStar) {
      star_t = ti++;
      star_s = si;
      continue;
    }
    if (ti < nt && TokenMatches(t[ti], static_cast<unsigned char>(s[si]))) {
      ++ti;
      ++si;
      continue;
    }
    if (star_t == std::string_view::npos) return false;
    ti = star_t + 1;
    si = ++star_s;
  }
  while (ti < nt && t[ti].kind == Token::kStar) ++ti;
  return ti == nt;
}

bool Glob::Matches(std::string_view path) const {
  if (path.empty() || path[0] != '/') return false;
  if (is_literal_) return path == literal_prefix_;
  // The same greedy scheme one level up: components are the symbols and
  // '**' is the star.
  const std::string_view body = path.substr(1);
  const size_t n = body.size();
  const size_t ng = segments_.size();
  size_t si = body.empty() ? n + 1 : 0;  // start of the current component
  size_t gi = 0;
  size_t star_g = std::string_view::npos, star_si = 0;
  while (si <= n) {
    size_t end = body.find('/', si);
    if (end == std::string_view::npos) end = n;
    if (gi < ng && segments_[gi].kind == Segment::kDoubleStar) {
      star_g = gi++;
      star_si = si;
      continue;
    }
    if (gi < ng && SegmentMatches(segments_[gi], body.substr(si, end - si))) {
      ++gi;
      si = end + 1;
      continue;
    }
    if (star_g == std::string_view::npos) return false;
    // Let the last '**' absorb one more component and retry after it.
    gi = star_g + 1;
    size_t star_end = body.find('/', star_si);
    star_si = star_end == std::string_view::npos ? n + 1 : star_end + 1;
    si = star_si;
  }
  while (gi < ng && segments_[gi].kind == Segment::kDoubleStar) ++gi;
  return gi == ng;
}

void Glob::BelowStates(std::string_view dir, bool* could, bool* all) const {
  *could = false;
  *all = false;
  if (dir.empty() || dir[0] != '/') return;
  const size_t ng = segments_.size();
  using States = std::bitset<kMaxGlobComponents + 1>;
  auto closure = [&](States& s) {
    for (size_t i = 0; i < ng; ++i) {
      if (s.test(i) && segments_[i].kind == Segment::kDoubleStar) s.set(i + 1);
    }
  };
  States cur;
  cur.set(0);
  closure(cur);
  const bool alive = ForEachComponent(dir, [&](std::string_view comp) {
    States next;
    for (size_t i = 0; i < ng; ++i) {
      if (!cur.test(i)) continue;
      if (segments_[i].kind == Segment::kDoubleStar) {
        next.set(i);
      } else if (SegmentMatches(segments_[i], comp)) {
        next.set(i + 1);
      }
    }
    closure(next);
    cur = next;
    return cur.any();
  });
  if (!alive) return;
  // Index from which every remaining segment is '**'.
  size_t stars_from = ng;
  while (stars_from > 0 && segments_[stars_from - 1].kind == Segment::kDoubleStar) --stars_from;
  for (size_t i = 0; i < ng; ++i) {
    if (!cur.test(i)) continue;
    *could = true;
    if (i >= stars_from) *all = true;
  }
}

bool Glob::CouldMatchBelow(std::string_view dir) const {
  bool could, all;
  BelowStates(dir, &could, &all);
  return could;
}

bool Glob::MatchesAllBelow(std::string_view dir) const {
  bool could, all;
  BelowStates(dir, &could, &all);
  return all;
}

}  // namespace driftwatch::rules
