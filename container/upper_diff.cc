#include "container/upper_diff.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <deque>
#include <set>

namespace driftwatch::container {
namespace {

constexpr std::string_view kOverlayPrefixes[] = {"trusted.overlay.", "user.overlay."};

Entry Normalized(Entry e, const std::string& name) {
  e.name = name;
  e.mask = DiffMask(e.type);
  e.subtree = Hash128();
  e.ApplyMask();
  return e;
}

// Resolves an overlay.redirect value against the parent's lower origin.
Result<std::optional<std::string>> ResolveRedirect(const std::string& value,
                                                   const std::optional<std::string>& parent_origin,
                                                   const std::string& where) {
  auto bad = [&] {
    return Status::Corruption(where + ": overlay redirect '" + EscapePath(value) +
                              "' is not a clean path");
  };
  if (value.empty()) return bad();
  if (value[0] != '/') {
    if (value.find('/') != std::string::npos || value == "." || value == "..") return bad();
    if (!parent_origin) return std::optional<std::string>();
    return std::optional<std::string>(JoinPath(*parent_origin == "/" ? "" : *parent_origin, value));
  }
  size_t i = 1;
  while (i <= value.size()) {
    size_t j = value.find('/', i);
    if (j == std::string::npos) j = value.size();
    std::string_view comp = std::string_view(value).substr(i, j - i);
    if (comp.empty() || comp == "." || comp == "..") return bad();
    i = j + 1;
  }
  return std::optional<std::string>(value);
}

std::string Join(const std::string& dir, const std::string& name) {
  return JoinPath(dir == "/" ? "" : dir, name);
}

struct Work {
  std::string path;                   // merged directory whose children are examined
  bool in_upper = false;              // the directory exists in the upper layer
  std::optional<std::string> origin;  // lower directory showing through, if any
  bool image_dir = false;             // the image has a directory at `path`
};

}  // namespace

uint32_t DiffMask(EntryType type) {
  uint32_t m = kAttrType | kAttrPerm | kAttrUid | kAttrGid;
  switch (type) {
    case EntryType::kDir:
      break;
    case EntryType::kFile:
      m |= kAttrSize | kAttrHash;
      break;
    case EntryType::kSymlink:
      m |= kAttrSize | kAttrLink;
      break;
    case EntryType::kCharDev:
    case EntryType::kBlockDev:
      m |= kAttrRdev;
      break;
    default:
      m |= kAttrSize;
      break;
  }
  return m;
}

OverlayMarkers DecodeOverlayXattrs(const std::vector<std::pair<std::string, std::string>>& xattrs) {
  OverlayMarkers m;
  for (const auto& [name, value] : xattrs) {
    for (std::string_view prefix : kOverlayPrefixes) {
      if (name.size() <= prefix.size() ||
          std::string_view(name).substr(0, prefix.size()) != prefix) {
        continue;
      }
      std::string_view key = std::string_view(name).substr(prefix.size());
      if (key == "whiteout") m.whiteout = true;
      if (key == "opaque" && value == "y") m.opaque = true;
      if (key == "metacopy") m.metacopy = true;
      if (key == "redirect") m.redirect = value;
    }
  }
  return m;
}

bool IsDeviceWhiteout(const Entry& e) {
  return e.type == EntryType::kCharDev && e.rdev == makedev(0, 0);
}

void UpperListing::Add(const std::string& path, UpperNode node) {
  if (path != "/") {
    size_t slash = path.rfind('/');
    std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    auto& kids = children_[parent];
    std::string name = path.substr(slash + 1);
    auto it = std::lower_bound(kids.begin(), kids.end(), name);
    if (it == kids.end() || *it != name) kids.insert(it, name);
  }
  nodes_[path] = std::move(node);
}

const UpperNode* UpperListing::Find(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<std::string> UpperListing::Children(const std::string& dir) const {
  auto it = children_.find(dir);
  return it == children_.end() ? std::vector<std::string>() : it->second;
}

bool IsUnder(const std::string& path, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) {
    if (p == "/" || path == p) return true;
    if (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/')
      return true;
  }
  return false;
}

std::string_view DiffLetter(DriftKind kind) {
  switch (kind) {
    case DriftKind::kAdded:
      return "A";
    case DriftKind::kRemoved:
      return "D";
    default:
      return "C";
  }
}

Result<std::vector<DriftEvent>> DiffUpperLayer(const UpperListing& upper, LowerView& lower,
                                               const std::vector<std::string>& excluded) {
  std::vector<DriftEvent> events;
  std::deque<Work> work;
  {
    const UpperNode* root = upper.Find("/");
    Work w{"/", true, std::string("/"), true};
    if (root != nullptr && root->opaque) w.origin.reset();
    work.push_back(std::move(w));
  }
  while (!work.empty()) {
    Work w = std::move(work.front());
    work.pop_front();
    if (w.path != "/" && IsUnder(w.path, excluded)) continue;

    // The merged directory's children: upper entries that are not whiteouts,
    // plus lower entries of the origin that the upper layer does not cover.
    std::vector<std::string> upper_kids =
        w.in_upper ? upper.Children(w.path) : std::vector<std::string>();
    std::set<std::string> covered(upper_kids.begin(), upper_kids.end());
    std::set<std::string> merged;
    for (const std::string& name : upper_kids) {
      if (!upper.Find(Join(w.path, name))->whiteout) merged.insert(name);
    }
    std::set<std::string> from_lower;
    if (w.origin) {
      DW_ASSIGN_OR_RETURN(std::vector<std::string> lower_kids, lower.List(*w.origin));
      for (std::string& name : lower_kids) {
        if (!covered.count(name)) {
          merged.insert(name);
          from_lower.insert(std::move(name));
        }
      }
    }
    if (w.image_dir) {
      DW_ASSIGN_OR_RETURN(std::vector<std::string> image_kids, lower.List(w.path));
      for (const std::string& name : image_kids) {
        std::string p = Join(w.path, name);
        if (merged.count(name) || IsUnder(p, excluded)) continue;
        DW_ASSIGN_OR_RETURN(std::optional<Entry> img, lower.Lookup(p));
        if (!img) continue;
        DriftEvent ev;
        ev.path = p;
        ev.kind = DriftKind::kRemoved;
        ev.old_entry = Normalized(*img, name);
        events.push_back(std::move(ev));
      }
    }

    for (const std::string& name : merged) {
      std::string p = Join(w.path, name);
      if (IsUnder(p, excluded)) continue;
      Entry m;
      bool child_in_upper = false;
      std::optional<std::string> child_origin;
      if (from_lower.count(name)) {
        child_origin = Join(*w.origin, name);
        // Pure lower content at its own path: identical to the image.
        if (w.image_dir && *child_origin == p) continue;
        DW_ASSIGN_OR_RETURN(std::optional<Entry> l, lower.Lookup(*child_origin));
        if (!l) continue;  // vanished from the image while we looked
        m = *l;
      } else {
        const UpperNode* u = upper.Find(p);
        child_in_upper = true;
        m = u->entry;
        std::optional<std::string> redirect;
        if (u->redirect) {
          DW_ASSIGN_OR_RETURN(redirect, ResolveRedirect(*u->redirect, w.origin, p));
        }
        if (m.type == EntryType::kFile && u->metacopy) {
          std::optional<std::string> data = redirect;
          if (!data && w.origin) data = Join(*w.origin, name);
          if (data) {
            DW_ASSIGN_OR_RETURN(std::optional<Entry> l, lower.Lookup(*data));
            if (l && l->type == EntryType::kFile) {
              m.content = l->content;
              m.size = l->size;
            }
          }
        }
        if (m.type == EntryType::kDir && !u->opaque) {
          if (redirect) {
            child_origin = redirect;
          } else if (w.origin) {
            std::string candidate = Join(*w.origin, name);
            DW_ASSIGN_OR_RETURN(std::optional<Entry> l, lower.Lookup(candidate));
            if (l && l->type == EntryType::kDir) child_origin = candidate;
          }
        }
      }
      m = Normalized(std::move(m), name);
      std::optional<Entry> img;
      if (w.image_dir) {
        DW_ASSIGN_OR_RETURN(img, lower.Lookup(p));
      }
      const bool is_dir = m.type == EntryType::kDir;
      if (!img) {
        DriftEvent ev;
        ev.path = p;
        ev.kind = DriftKind::kAdded;
        ev.new_entry = m;
        events.push_back(std::move(ev));
        if (is_dir) work.push_back(Work{p, child_in_upper, child_origin, false});
        continue;
      }
      Entry old = Normalized(*img, name);
      uint32_t changed = ChangedAttrs(old, m);
      if (changed != 0) {
        DriftEvent ev;
        ev.path = p;
        ev.kind = DriftKind::kModified;
        ev.changed = changed;
        ev.old_entry = old;
        ev.new_entry = m;
        events.push_back(std::move(ev));
      }
      if (is_dir) {
        bool image_is_dir = old.type == EntryType::kDir;
        if (!image_is_dir || child_in_upper || child_origin != p) {
          work.push_back(Work{p, child_in_upper, child_origin, image_is_dir});
        }
      }
    }
  }
  std::sort(events.begin(), events.end(),
            [](const DriftEvent& a, const DriftEvent& b) { return a.path < b.path; });
  return events;
}

}  // namespace driftwatch::container
