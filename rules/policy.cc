#include "rules/policy.h"

#include <algorithm>
#include <limits>
#include <unordered_set>
#include <utility>

namespace driftwatch::rules {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// The parent directory of an absolute path ("/etc" -> "/", "/" -> "").
std::string_view Parent(std::string_view path) {
  if (path.size() <= 1) return {};
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

}  // namespace

std::string Rule::Describe() const {
  if (origin.empty()) return glob;
  return glob + " (" + origin + ")";
}

Result<Policy> Policy::Create(std::vector<Rule> rules, std::optional<Severity> package_upgrades,
                              std::vector<std::string> files) {
  if (rules.size() > kMaxRules) {
    return Status::InvalidArgument("more than " + std::to_string(kMaxRules) + " rules");
  }
  Policy p;
  p.package_upgrades_ = package_upgrades;
  p.files_ = std::move(files);
  p.nodes_.emplace_back();
  p.globs_.reserve(rules.size());
  p.ranks_.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    Rule& r = rules[i];
    r.mask |= kAttrType;
    Result<Glob> g = Glob::Compile(r.glob);
    if (!g.ok()) return r.origin.empty() ? g.status() : g.status().WithContext(r.origin);
    p.ranks_.push_back(Rank{g->is_literal() ? 1u : 0u, g->literal_components(), g->literal_bytes(),
                            std::numeric_limits<uint32_t>::max() - g->double_stars(),
                            static_cast<uint32_t>(i)});
    // Find or create the trie node of the literal prefix.
    uint32_t n = 0;
    std::string_view prefix = g->literal_prefix();
    std::string_view body = prefix.substr(1);
    size_t start = 0;
    while (!body.empty() && start <= body.size()) {
      size_t end = body.find('/', start);
      if (end == std::string_view::npos) end = body.size();
      std::string_view comp = body.substr(start, end - start);
      start = end + 1;
      auto& kids = p.nodes_[n].children;
      auto it = std::lower_bound(kids.begin(), kids.end(), comp,
                                 [](const auto& kid, std::string_view c) { return kid.first < c; });
      if (it != kids.end() && it->first == comp) {
        n = it->second;
        continue;
      }
      const uint32_t child = static_cast<uint32_t>(p.nodes_.size());
      kids.insert(it, {std::string(comp), child});
      p.nodes_.emplace_back();
      p.nodes_.back().parent = n;
      n = child;
    }
    if (r.content_only) {
      p.globs_.push_back(std::move(g).value());
      continue;  // decides content only (Content); not part of the trie
    }
    if (g->is_literal()) {
      p.nodes_[n].exact = static_cast<int32_t>(i);  // a later identical rule wins
    } else {
      p.nodes_[n].globs.push_back(static_cast<uint32_t>(i));
    }
    if (!r.ignore) {
      for (uint32_t a = n; a != 0;) {
        a = p.nodes_[a].parent;
        auto& best = p.nodes_[a].best_kept_below;
        if (!best || *best < p.ranks_[i]) best = p.ranks_[i];
      }
    }
    p.globs_.push_back(std::move(g).value());
  }
  for (Node& node : p.nodes_) {
    std::sort(node.globs.begin(), node.globs.end(),
              [&p](uint32_t a, uint32_t b) { return p.ranks_[b] < p.ranks_[a]; });
  }
  std::vector<Rule> content_rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules[i];
    if (!r.content || r.ignore) continue;
    Rule c;
    c.glob = r.glob;
    c.origin = r.origin;
    content_rules.push_back(std::move(c));
    p.content_rules_.push_back(static_cast<uint32_t>(i));
  }
  if (!content_rules.empty()) {
    DW_ASSIGN_OR_RETURN(Policy content, Create(std::move(content_rules)));
    p.content_ = std::make_shared<const Policy>(std::move(content));
  }
  std::vector<Rule> peer_rules;
  for (const Rule& r : rules) {
    if (!r.peer || r.ignore) continue;
    Rule c;
    c.glob = r.glob;
    c.origin = r.origin;
    c.ignore = *r.peer == PeerMode::kCompare;
    peer_rules.push_back(std::move(c));
  }
  if (!peer_rules.empty()) {
    DW_ASSIGN_OR_RETURN(Policy peer, Create(std::move(peer_rules)));
    p.peer_ = std::make_shared<const Policy>(std::move(peer));
  }
  p.rules_ = std::move(rules);
  return p;
}

bool Policy::PeerIgnored(std::string_view path) const {
  if (peer_ == nullptr) return false;
  const Rule* r = peer_->Match(path);
  return r != nullptr && !r->ignore;
}

bool Policy::PeerIgnoredBelow(std::string_view dir) const {
  return peer_ != nullptr && peer_->CouldMatchBelow(dir);
}

ContentRule Policy::Content(std::string_view path) const {
  ContentRule out;
  if (content_ == nullptr) return out;
  const Rule* c = content_->Match(path);
  if (c == nullptr) return out;
  const Rule& r = rules_[content_rules_[c - content_->rules_.data()]];
  out.mode = *r.content;
  out.max_bytes = r.content_max;
  out.rule = &r;
  return out;
}

uint32_t Policy::Walk(std::string_view path, bool* whole) const {
  *whole = true;
  uint32_t n = 0;
  std::string_view body = path.substr(1);
  if (body.empty()) return 0;
  size_t start = 0;
  while (true) {
    size_t end = body.find('/', start);
    std::string_view comp =
        body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const auto& kids = nodes_[n].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), comp,
                               [](const auto& kid, std::string_view c) { return kid.first < c; });
    if (it == kids.end() || it->first != comp) {
      *whole = false;
      return n;
    }
    n = it->second;
    if (end == std::string_view::npos) return n;
    start = end + 1;
  }
}

const Rule* Policy::Match(std::string_view path) const {
  if (path.empty() || path[0] != '/') return nullptr;
  bool whole;
  uint32_t n = Walk(path, &whole);
  if (whole && nodes_[n].exact >= 0) return &rules_[nodes_[n].exact];
  // A deeper prefix means more leading literal components, so the first
  // match walking up, best-ranked first within a node, is the winner.
  while (true) {
    for (uint32_t idx : nodes_[n].globs) {
      if (globs_[idx].Matches(path)) return &rules_[idx];
    }
    if (n == 0) return nullptr;
    n = nodes_[n].parent;
  }
}

bool Policy::CouldMatchBelow(std::string_view dir) const {
  if (dir.empty() || dir[0] != '/') return false;
  bool whole;
  const uint32_t start = Walk(dir, &whole);
  // The best ignore rule that matches every path below dir.
  std::optional<Rank> cover;
  for (uint32_t n = start;; n = nodes_[n].parent) {
    for (uint32_t idx : nodes_[n].globs) {
      if (!rules_[idx].ignore || (cover && ranks_[idx] < *cover)) continue;
      if (globs_[idx].MatchesAllBelow(dir)) cover = ranks_[idx];
    }
    if (n == 0) break;
  }
  auto outranks_cover = [&cover](const Rank& r) { return !cover || *cover < r; };
  // Rules whose prefix lies strictly below dir can match there.
  if (whole && nodes_[start].best_kept_below && outranks_cover(*nodes_[start].best_kept_below)) {
    return true;
  }
  for (uint32_t n = start;; n = nodes_[n].parent) {
    for (uint32_t idx : nodes_[n].globs) {
      if (rules_[idx].ignore || !outranks_cover(ranks_[idx])) continue;
      if (globs_[idx].CouldMatchBelow(dir)) return true;
    }
    if (n == 0) break;
  }
  return false;
}

std::vector<std::string> Policy::Roots() const {
  std::unordered_set<std::string_view> all;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!rules_[i].ignore && !rules_[i].content_only) all.insert(globs_[i].literal_prefix());
  }
  std::vector<std::string> out;
  for (std::string_view p : all) {
    bool nested = false;
    for (std::string_view a = Parent(p); !a.empty() && !nested; a = Parent(a)) {
      nested = all.count(a) > 0;
    }
    if (!nested) out.emplace_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Hash128 Policy::Fingerprint() const {
  std::string s = "driftwatch-rules\n";
  PutU32(&s, kRulesVersion);
  uint32_t checked = 0;
  for (const Rule& r : rules_) checked += r.content_only ? 0 : 1;
  PutU32(&s, checked);
  for (const Rule& r : rules_) {
    if (r.content_only) continue;
    PutString(&s, r.glob);
    PutU32(&s, r.mask);
    s.push_back(r.ignore ? 1 : 0);
    s.push_back(static_cast<char>(r.severity));
    s.push_back(static_cast<char>(r.hash));
    s.push_back(r.cross_mounts ? 1 : 0);
  }
  s.push_back(package_upgrades_ ? static_cast<char>(*package_upgrades_) : 0);
  return HashBytes(s);
}

Hash128 Policy::ContentFingerprint() const {
  std::string s = "driftwatch-content\n";
  for (const Rule& r : rules_) {
    if (!r.content || r.ignore) continue;
    PutString(&s, r.glob);
    s.push_back(static_cast<char>(*r.content));
    PutU32(&s, static_cast<uint32_t>(r.content_max));
    PutU32(&s, static_cast<uint32_t>(r.content_max >> 32));
  }
  return HashBytes(s);
}

}  // namespace driftwatch::rules
