// Listing one directory and examining its entries (agent/scan_walk.h).
#include <dirent.h>
#include <fcntl.h>

#include <algorithm>

#include "agent/scan_walk.h"

namespace driftwatch::agent::scan_internal {

void Scan::ListDir(DirNode& node, int fd, std::vector<Task>* children,
                   const std::shared_ptr<UniqueFd>& self_fd, const std::shared_ptr<DirNode>& self) {
  auto names = host_.ReadDir(fd);
  if (!names.ok()) {
    Warn(EscapePath(node.path) + ": " + names.status().message());
    return;
  }
  std::sort(names->begin(), names->end(),
            [](const DirEntryName& a, const DirEntryName& b) { return a.name < b.name; });
  ++dirs_listed_;
  if (reuse_ != nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    listed_.push_back(node.path);
  }
  bool cache_loaded = false;
  std::vector<CachedStat> cached;
  std::vector<CachedStat> fresh;
  bool cache_dirty = false;
  const std::string prefix = node.path == "/" ? "" : node.path;
  Tree base;
  // Base directories whose counts are not left to their own listing.
  std::vector<bool> base_below_counted;
  if (node.reuse) {
    auto loaded = LoadBase(node);
    if (!loaded.ok()) {
      Fatal(loaded.status().WithContext("journal base " + EscapePath(node.path)));
      return;
    }
    base = std::move(*loaded);
    base_below_counted.assign(base.entries.size(), false);
    if (options_.cache != nullptr) {
      cache_loaded = true;  // reused directories keep their rows
      auto rows = options_.cache->LoadDir(node.host_path);
      if (rows.ok()) cached = std::move(*rows);
    }
  }
  auto base_entry = [&](const std::string& name) -> const Entry* {
    auto it = std::lower_bound(base.entries.begin(), base.entries.end(), name,
                               [](const Entry& e, const std::string& n) { return e.name < n; });
    return it != base.entries.end() && it->name == name ? &*it : nullptr;
  };

  // The rows are sorted by name as the listing is: one cursor finds each
  // entry's row (rows out of order would be missed, and the files re-read).
  size_t next_row = 0;
  auto row_of = [&](const std::string& name) -> const CachedStat* {
    while (next_row < cached.size() && cached[next_row].name < name) ++next_row;
    return next_row < cached.size() && cached[next_row].name == name ? &cached[next_row] : nullptr;
  };
  // One path buffer for the whole directory, and room for its entries and
  // rows up front (bounded: a huge directory may hold few watched entries):
  // no allocation and free per entry (docs/decisions.md, "Small files").
  std::string path;
  const size_t room = std::min<size_t>(names->size(), 4096);
  node.entries.reserve(room);
  fresh.reserve(room);
  for (const DirEntryName& de : *names) {
    path.assign(prefix).append(1, '/').append(de.name);
    const rules::Rule* rule = policy_.Match(path);
    const bool watched = rule != nullptr && !rule->ignore;
    // Whether something beneath may be watched matters only for unwatched entries.
    const bool below = !watched && policy_.CouldMatchBelow(path);
    if (!watched && !below) continue;
    if (!watched && de.d_type != DT_DIR && de.d_type != DT_UNKNOWN) continue;
    if (node.reuse && Reuse(node, base, de, path, cached, &fresh)) {
      base_below_counted[base_entry(de.name) - base.entries.data()] = true;
      continue;
    }

    const bool hashes = watched && (rule->mask & (kAttrHash | kAttrGrowing)) != 0;
    if (hashes && options_.cache != nullptr && !cache_loaded) {
      cache_loaded = true;
      auto rows = options_.cache->LoadDir(node.host_path);
      if (rows.ok()) cached = std::move(*rows);
    }
    const CachedStat* hit = hashes ? row_of(de.name) : nullptr;
    // Open first: a regular file to hash that no cache row can vouch for
    // is opened, and the fstat of the open file is its stat (openat, fstat,
    // read, close instead of a stat more; docs/decisions.md, "Small
    // files"). What is put in its place after the listing is what is
    // opened: O_NOFOLLOW and O_NONBLOCK, so a symlink fails the open and a
    // FIFO or device never blocks it; only a regular file is read.
    struct stat st;
    UniqueFd file;
    Status open_failed;  // the open-first open failed: the hash's error
    if (hashes && de.d_type == DT_REG && (options_.full || hit == nullptr)) {
      auto opened = OpenForHashAt(host_, fd, de.name);
      if (opened.ok()) {
        file = std::move(*opened);
      } else if (opened.status().code() == StatusCode::kNotFound) {
        Warn(EscapePath(path) + ": vanished during scan");
        continue;
      } else {
        open_failed = opened.status();  // stat it: it stays in the tree
      }
    }
    Status s = file.valid() ? host_.Fstat(file.get(), &st) : host_.StatAt(fd, de.name, &st);
    if (!s.ok()) {
      Warn(EscapePath(path) +
           (s.code() == StatusCode::kNotFound ? ": vanished during scan" : ": " + s.message()));
      continue;
    }
    Entry e;
    if (!EntryFromStat(de.name, st, rule, &e)) continue;
    if (!watched && e.type != EntryType::kDir) continue;

    if (watched && e.type == EntryType::kSymlink && (e.mask & kAttrLink)) {
      auto target = host_.ReadLinkAt(fd, de.name);
      if (!target.ok()) {
        Warn(EscapePath(path) + ": " + target.status().message());
        continue;
      }
      e.link_target = std::move(*target);
    }
    const bool want_hash = watched && e.type == EntryType::kFile && (e.mask & kAttrHash);
    const bool want_xattrs = watched && (e.mask & kAttrXattrs);
    if (want_hash || want_xattrs) {
      if (options_.cache != nullptr && !cache_loaded) {
        cache_loaded = true;
        auto rows = options_.cache->LoadDir(node.host_path);
        if (rows.ok()) cached = std::move(*rows);
      }
      if (!hashes) hit = row_of(de.name);
      // An unchanged stat tuple (ctime included: writes, chmod, chown and
      // setxattr all move it) means unchanged content and xattrs, unless the
      // file was racy when it was read.
      const bool unchanged = !options_.full && hit != nullptr && hit->dev == st.st_dev &&
                             hit->ino == st.st_ino && hit->size == e.size &&
                             hit->mtime_ns == e.mtime_ns && hit->ctime_ns == e.ctime_ns &&
                             e.mtime_ns < hit->scan_ns - options_.racy_window_ns &&
                             e.ctime_ns < hit->scan_ns - options_.racy_window_ns;
      CachedStat row{de.name,
                     st.st_dev,
                     st.st_ino,
                     e.size,
                     e.mtime_ns,
                     e.ctime_ns,
                     unchanged ? hit->scan_ns : ReadTimeNs(),
                     Digest(),
                     false,
                     Hash128()};
      bool vanished = false;
      bool complete = true;
      if (want_xattrs) {
        if (unchanged && hit->has_xattrs && content_.HasXattrs(hit->xattrs)) {
          e.xattrs = hit->xattrs;
        } else {
          auto xattrs = file.valid() ? host_.XattrsOf(file.get()) : host_.XattrsAt(fd, de.name);
          cache_dirty = true;
          if (xattrs.ok()) {
            e.xattrs = XattrDigest(*xattrs);
            if (Status k = content_.KeepXattrs(path, e.xattrs, *xattrs); !k.ok()) {
              Warn(k.message());
            }
          } else if (xattrs.status().code() == StatusCode::kNotFound) {
            vanished = true;
          } else {
            complete = false;
            Warn(EscapePath(path) + ": " + xattrs.status().message());
          }
        }
        row.xattrs = e.xattrs;
        row.has_xattrs = complete && !vanished;
      }
      if (want_hash && !vanished) {
        // Kept content (docs/content.md): from the read that hashes the
        // file; a file the cache vouches for is read again for a missing blob.
        uint64_t keep_max = 0;
        const bool keep = content_.Wants(path, e.size, &keep_max);
        if (unchanged && hit->digest.algo == rule->hash &&
            (!keep || content_.HasBlob(hit->digest))) {
          e.content = hit->digest;
        } else {
          std::string kept;
          std::string* keep_to = keep ? &kept : nullptr;
          Result<FileDigest> digest =
              file.valid()
                  ? HashOpenFile(host_, file.get(), path, st, rule->hash, keep_to, keep_max)
              : !open_failed.ok()
                  ? Result<FileDigest>(open_failed.WithContext(EscapePath(path)))
                  : HashFileAt(host_, fd, path, de.name, st, rule->hash, keep_to, keep_max);
          if (digest.ok()) {
            bytes_hashed_ += digest->bytes;
            ++files_hashed_;
            if (digest->changed) Warn(EscapePath(path) + ": changed during scan");
            if (keep && !digest->changed && digest->bytes <= keep_max &&
                kept.size() == digest->bytes) {
              if (Status k = content_.Keep(path, digest->digest, kept); !k.ok()) {
                Warn(k.message());
              }
            }
          }
          cache_dirty = true;
          if (digest.ok()) {
            e.content = digest->digest;
          } else if (digest.status().code() == StatusCode::kNotFound) {
            vanished = true;
          } else {
            complete = false;
            Warn(digest.status().message());
          }
        }
        row.digest = e.content;
      }
      if (vanished) {
        Warn(EscapePath(path) + ": vanished during scan");
        continue;
      }
      if (complete) fresh.push_back(std::move(row));
    }
    e.ApplyMask();
    counts_.Add(e.type);
    node.entries.push_back(std::move(e));
    if (node.entries.back().type == EntryType::kDir) {
      auto child = std::make_shared<DirNode>();
      child->parent = self;
      child->index = node.entries.size() - 1;
      child->path = path;
      child->host_path = node.host_path;
      if (child->host_path.empty() || child->host_path.back() != '/') child->host_path += '/';
      child->host_path += de.name;
      child->dev = st.st_dev;
      child->ino = st.st_ino;
      child->depth = node.depth + 1;
      if (const Entry* b = node.reuse ? base_entry(de.name) : nullptr;
          b != nullptr && b->type == EntryType::kDir && !reuse_->IsTree(path)) {
        child->reuse = true;
        child->base = b->subtree;
      }
      const bool cross = watched && rule->cross_mounts;
      if (st.st_dev != node.dev && !cross) {
        child->descend = false;
      } else if (child->depth > options_.max_depth) {
        child->descend = false;
        Warn(EscapePath(path) + ": deeper than " + std::to_string(options_.max_depth) +
             " levels, not descended");
      }
      if (child->reuse && child->descend) {
        // Its listing subtracts its base entries.
        base_below_counted[base_entry(de.name) - base.entries.data()] = true;
      } else {
        child->reuse = false;
      }
      children->push_back(Task{std::move(child), self_fd, de.name});
    }
  }
  for (size_t i = 0; i < base.entries.size(); ++i) {
    const Entry& b = base.entries[i];
    if (b.type != EntryType::kDir || base_below_counted[i]) continue;
    // Gone, replaced or rescanned whole: nothing below it is in this scan
    // unless examined again.
    if (Status s = reuse_->SubtractBelow(b.subtree); !s.ok()) {
      Fatal(s.WithContext("journal base " + EscapePath(prefix + "/" + b.name)));
      return;
    }
  }
  if (options_.cache != nullptr && (cache_dirty || fresh.size() != cached.size())) {
    Status s = options_.cache->StoreDir(node.host_path, std::move(fresh));
    if (!s.ok()) Warn("stat cache: " + s.message());
  }
  MaybeReportProgress();
}

Result<Tree> Scan::LoadBase(DirNode& node) {
  DW_ASSIGN_OR_RETURN(Tree base, reuse_->reuse().source->Get(node.base));
  reuse_->SubtractEntries(base);
  node.base_counted = true;
  return base;
}

bool Scan::Reuse(DirNode& node, const Tree& base, const DirEntryName& de, const std::string& path,
                 const std::vector<CachedStat>& cached, std::vector<CachedStat>* fresh) {
  if (de.d_type != DT_DIR && de.d_type != DT_UNKNOWN) return false;
  if (reuse_->Leads(path) || reuse_->HasBaseWarning(path)) return false;
  auto it = std::lower_bound(base.entries.begin(), base.entries.end(), de.name,
                             [](const Entry& e, const std::string& n) { return e.name < n; });
  // Not in the base as a directory: the journal missed it, so look.
  if (it == base.entries.end() || it->name != de.name || it->type != EntryType::kDir) return false;
  node.entries.push_back(*it);
  ++counts_.dirs;
  auto row = std::lower_bound(cached.begin(), cached.end(), de.name,
                              [](const CachedStat& c, const std::string& n) { return c.name < n; });
  if (row != cached.end() && row->name == de.name) fresh->push_back(*row);
  auto under = reuse_->SubtreesUnder(path);
  if (!under.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    subtrees_.insert(subtrees_.end(), under.begin(), under.end());
  }
  return true;
}

}  // namespace driftwatch::agent::scan_internal
