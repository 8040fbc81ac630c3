#include "packages/dpkg.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <unordered_set>

#include "packages/db_file.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kStatusFile = "var/lib/dpkg/status";
constexpr std::string_view kInfoDir = "var/lib/dpkg/info";
constexpr std::string_view kDiversionsFile = "var/lib/dpkg/diversions";

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// One conffile line: "<path> <hash> [obsolete] [remove-on-upgrade]". The path
// may contain spaces, so the line is read from the right.
Result<DpkgConffile> ParseConffileLine(std::string_view line) {
  std::string_view rest = Trim(line);
  DpkgConffile c;
  for (;;) {
    size_t sp = rest.find_last_of(" \t");
    if (sp == std::string_view::npos) break;
    std::string_view last = rest.substr(sp + 1);
    if (last == "obsolete") {
      c.obsolete = true;
    } else if (last == "remove-on-upgrade") {
      c.remove_on_upgrade = true;
    } else {
      break;
    }
    rest = Trim(rest.substr(0, sp));
  }
  size_t sp = rest.find_last_of(" \t");
  if (sp == std::string_view::npos) {
    return Status::Corruption("conffile line '" + std::string(Trim(line)) +
                              "' needs a path and a hash");
  }
  std::string_view hash = rest.substr(sp + 1);
  c.path = std::string(Trim(rest.substr(0, sp)));
  if (!c.path.starts_with('/')) {
    return Status::Corruption("conffile path '" + c.path + "' is not absolute");
  }
  if (hash != "newconffile") {
    auto md5 = FileDigest::FromHex(DigestAlgo::kMd5, hash);
    if (!md5.ok()) return Status::Corruption("conffile " + c.path + ": " + md5.status().message());
    c.md5 = std::move(md5).value();
  }
  return c;
}

struct StanzaBuilder {
  DpkgStanza stanza;
  bool has_package = false;
  bool has_status = false;
  bool in_conffiles = false;
  int first_line = 0;
};

Status FinishStanza(StanzaBuilder* b, std::string_view source, std::vector<DpkgStanza>* out) {
  if (b->first_line == 0) return Status::Ok();
  if (!b->has_package) return LineError(source, b->first_line, "stanza has no Package field");
  if (!b->has_status) {
    return LineError(source, b->first_line,
                     "package '" + b->stanza.package.name + "' has no Status field");
  }
  b->stanza.line = b->first_line;
  out->push_back(std::move(b->stanza));
  *b = StanzaBuilder();
  return Status::Ok();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One md5sums line, without copies: the path relative to the root (leading
// slashes removed; empty for an empty line) and the raw digest.
struct Md5sumsLine {
  std::string_view path;
  char md5[16];
};

Status ParseMd5sumsLine(std::string_view line, std::string_view source, int n, Md5sumsLine* out) {
  out->path = {};
  if (line.empty()) return Status::Ok();
  if (line.size() < 34 || line[32] != ' ') {
    return LineError(source, n, "expected '<md5>  <path>', got '" + std::string(line) + "'");
  }
  for (size_t i = 0; i < 16; ++i) {
    int hi = HexValue(line[2 * i]), lo = HexValue(line[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return LineError(source, n, "bad hex digest '" + std::string(line.substr(0, 32)) + "'");
    }
    out->md5[i] = static_cast<char>(hi << 4 | lo);
  }
  std::string_view path = line.substr(33);
  while (!path.empty() && (path.front() == ' ' || path.front() == '*')) path.remove_prefix(1);
  while (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty()) return LineError(source, n, "missing path");
  out->path = path;
  return Status::Ok();
}

// A .list line as dpkg means it: trailing "/." and "/" dropped; "/" for the
// root.
std::string_view NormalizeListView(std::string_view p) {
  while (p.size() > 1 && p.ends_with("/.")) p.remove_suffix(2);
  while (p.size() > 1 && p.ends_with('/')) p.remove_suffix(1);
  return p.empty() ? std::string_view("/") : p;
}

}  // namespace

Result<std::vector<DpkgStanza>> ParseDpkgStatus(std::string_view text, std::string_view source) {
  std::vector<DpkgStanza> out;
  StanzaBuilder b;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (IsBlank(line)) return FinishStanza(&b, source, &out);
    if (line.front() == ' ' || line.front() == '\t') {
      if (b.first_line == 0) return LineError(source, n, "continuation line outside a field");
      if (!b.in_conffiles || IsBlank(line)) return Status::Ok();
      auto c = ParseConffileLine(line);
      if (!c.ok()) return LineError(source, n, c.status().message());
      b.stanza.conffiles.push_back(std::move(c).value());
      return Status::Ok();
    }
    size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? "" : line.substr(0, colon);
    if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
      return LineError(source, n, "expected 'Field: value', got '" + std::string(line) + "'");
    }
    std::string_view value = Trim(line.substr(colon + 1));
    if (b.first_line == 0) b.first_line = n;
    b.in_conffiles = false;
    if (EqualsNoCase(name, "Package")) {
      if (value.empty()) return LineError(source, n, "empty Package field");
      b.stanza.package.manager = "dpkg";
      b.stanza.package.name = std::string(value);
      b.has_package = true;
    } else if (EqualsNoCase(name, "Version")) {
      b.stanza.package.version = std::string(value);
    } else if (EqualsNoCase(name, "Architecture")) {
      b.stanza.package.architecture = std::string(value);
    } else if (EqualsNoCase(name, "Status")) {
      std::vector<std::string_view> words = Words(value);
      if (words.size() != 3) {
        return LineError(source, n, "Status '" + std::string(value) + "' is not 'want flag state'");
      }
      b.stanza.want = std::string(words[0]);
      b.stanza.package.status = std::string(words[2]);
      b.has_status = true;
    } else if (EqualsNoCase(name, "Conffiles")) {
      b.in_conffiles = true;
      if (!value.empty()) {
        return LineError(source, n, "Conffiles entries must be on continuation lines");
      }
    }
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  DW_RETURN_IF_ERROR(FinishStanza(&b, source, &out));
  return out;
}

Result<std::vector<DpkgFileHash>> ParseDpkgMd5sums(std::string_view text, std::string_view source) {
  std::vector<DpkgFileHash> out;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    Md5sumsLine m;
    DW_RETURN_IF_ERROR(ParseMd5sumsLine(line, source, n, &m));
    if (m.path.empty()) return Status::Ok();
    out.push_back({"/" + std::string(m.path),
                   FileDigest{DigestAlgo::kMd5, std::string(m.md5, sizeof m.md5)}});
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<std::string>> ParseDpkgList(std::string_view text, std::string_view source) {
  std::vector<std::string> out;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (line.empty()) return Status::Ok();
    if (!line.starts_with('/')) {
      return LineError(source, n, "path '" + std::string(line) + "' is not absolute");
    }
    std::string_view p = NormalizeListView(line);
    if (p != "/") out.emplace_back(p);
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<DpkgDiversion>> ParseDpkgDiversions(std::string_view text,
                                                       std::string_view source) {
  std::vector<DpkgDiversion> out;
  std::vector<std::string> group;
  int group_line = 0;
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (group.empty()) group_line = n;
    if (group.size() < 2 && !line.starts_with('/')) {
      return LineError(source, n, "diverted path '" + std::string(line) + "' is not absolute");
    }
    if (group.size() == 2 && line.empty()) return LineError(source, n, "empty package name");
    group.emplace_back(line);
    if (group.size() == 3) {
      out.push_back({group[0], group[1], group[2]});
      group.clear();
    }
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  if (!group.empty()) {
    return LineError(source, group_line, "incomplete diversion (needs from, to and package lines)");
  }
  return out;
}

namespace {

constexpr unsigned kMaxReaderThreads = 8;

// What the reading of every package's files shares (read-only).
struct FilesContext {
  Host& host;
  const std::string& root;
  const std::unordered_set<std::string>& info_names;
  const std::vector<DpkgDiversion>& diversions;  // sorted by from
};

// info/<name>:<arch>.<ext> (multiarch) or info/<name>.<ext>, relative to the
// root; empty when neither exists.
std::string InfoFile(const FilesContext& cx, const Package& pkg, std::string_view ext) {
  std::string qualified = pkg.name + ":" + pkg.architecture + "." + std::string(ext);
  if (!pkg.architecture.empty() && cx.info_names.count(qualified) != 0) {
    return std::string(kInfoDir) + "/" + qualified;
  }
  std::string plain = pkg.name + "." + std::string(ext);
  return cx.info_names.count(plain) != 0 ? std::string(kInfoDir) + "/" + plain : std::string();
}

// One md5sums entry of a package: its path as an offset into the file's
// text (relative, as ParseMd5sumsLine gives it) and its raw digest.
struct Md5Entry {
  uint32_t off = 0, len = 0;
  uint32_t line = 0;  // order in the file
  char md5[16];
};

// Reads one package's .list and .md5sums (or, without a .list, its md5sums
// and conffiles) into `chunk`. Runs on a worker thread. The .list text,
// read into a buffer of its exact size, becomes the chunk's path arena
// as is (rows point at its lines; no second copy). Lookups are binary
// searches in a sorted vector of offsets, not maps of copied strings.
Status ReadPackageFiles(const FilesContext& cx, const DpkgStanza& st, uint32_t index,
                        FileTable::Chunk* chunk) {
  const Package& pkg = st.package;
  chunk->package = pkg.name;
  chunk->package_index = index;
  std::optional<std::string> list_text, md5_text;
  std::string list_rel;
  if (std::string rel = InfoFile(cx, pkg, "list"); !rel.empty()) {
    DW_ASSIGN_OR_RETURN(list_text, ReadDbFileSized(cx.host, cx.root, rel));
    list_rel = std::move(rel);
  }
  std::vector<Md5Entry> md5s;
  if (std::string rel = InfoFile(cx, pkg, "md5sums"); !rel.empty()) {
    DW_ASSIGN_OR_RETURN(md5_text, ReadDbFileSized(cx.host, cx.root, rel));
    if (md5_text) {
      const size_t lines =
          static_cast<size_t>(std::count(md5_text->begin(), md5_text->end(), '\n'));
      chunk->digests.reserve((lines + 1) * 16);
      md5s.reserve(lines + 1);
      const char* base = md5_text->data();
      DW_RETURN_IF_ERROR(ForEachLine(*md5_text, [&](std::string_view line, int n) -> Status {
        Md5sumsLine m;
        DW_RETURN_IF_ERROR(ParseMd5sumsLine(line, rel, n, &m));
        if (m.path.empty()) return Status::Ok();
        Md5Entry e;
        e.off = static_cast<uint32_t>(m.path.data() - base);
        e.len = static_cast<uint32_t>(m.path.size());
        e.line = static_cast<uint32_t>(md5s.size());
        std::memcpy(e.md5, m.md5, sizeof e.md5);
        md5s.push_back(e);
        return Status::Ok();
      }));
    }
  }
  auto md5_path = [&](const Md5Entry& e) {
    return std::string_view(md5_text->data() + e.off, e.len);
  };
  // By path; among equal paths the first line wins, as dpkg reads them.
  std::sort(md5s.begin(), md5s.end(), [&](const Md5Entry& a, const Md5Entry& b) {
    const int c = md5_path(a).compare(md5_path(b));
    return c != 0 ? c < 0 : a.line < b.line;
  });
  auto find_md5 = [&](std::string_view abs) -> const Md5Entry* {
    if (!abs.starts_with('/')) return nullptr;
    std::string_view rel = abs.substr(1);
    auto it =
        std::lower_bound(md5s.begin(), md5s.end(), rel,
                         [&](const Md5Entry& e, std::string_view p) { return md5_path(e) < p; });
    return it != md5s.end() && md5_path(*it) == rel ? &*it : nullptr;
  };
  auto find_conffile = [&](std::string_view path, bool retired) -> const DpkgConffile* {
    // The last line of a path counts, as in a map keyed by it.
    const DpkgConffile* found = nullptr;
    for (const DpkgConffile& c : st.conffiles) {
      if ((c.obsolete || c.remove_on_upgrade) == retired && c.path == path) found = &c;
    }
    return found;
  };
  // Adds the row of `path`; `arena_off` is where it already lies in
  // chunk->paths, or npos to append it.
  auto emit = [&](std::string_view path, size_t arena_off) {
    if (!st.conffiles.empty() && find_conffile(path, /*retired=*/true) != nullptr) return;
    std::string_view stored = path;
    if (!cx.diversions.empty()) {
      auto it = std::lower_bound(
          cx.diversions.begin(), cx.diversions.end(), path,
          [](const DpkgDiversion& d, std::string_view p) { return std::string_view(d.from) < p; });
      if (it != cx.diversions.end() && it->from == path && it->package != pkg.name) {
        stored = it->to;
        arena_off = std::string::npos;
      }
    }
    const DpkgConffile* conf =
        st.conffiles.empty() ? nullptr : find_conffile(path, /*retired=*/false);
    const uint8_t flags = conf != nullptr ? FileTable::kConffile : 0;
    DigestAlgo algo = DigestAlgo::kNone;
    std::string_view digest;
    uint8_t rule = FileTable::kRuleDpkgList;
    if (const Md5Entry* h = find_md5(path); h != nullptr) {
      algo = DigestAlgo::kMd5;
      digest = std::string_view(h->md5, sizeof h->md5);
      rule = FileTable::kRuleDpkgMd5sums;
    } else if (conf != nullptr && !conf->md5.empty()) {
      algo = DigestAlgo::kMd5;
      digest = conf->md5.bytes;
      rule = FileTable::kRuleDpkgConffiles;
    }
    if (arena_off == std::string::npos) {
      chunk->Add(stored, algo, digest, flags, rule);
    } else {
      chunk->AddInPlace(static_cast<uint32_t>(arena_off), static_cast<uint32_t>(stored.size()),
                        algo, digest, flags, rule);
    }
  };

  if (list_text) {
    chunk->paths = std::move(*list_text);
    list_text.reset();
    chunk->rows.reserve(
        static_cast<size_t>(std::count(chunk->paths.begin(), chunk->paths.end(), '\n')) + 1);
    // Rows are added while the arena is walked; a diverted path is appended
    // behind the text, which may move the buffer but not the offsets.
    const size_t text_size = chunk->paths.size();
    int n = 0;
    for (size_t pos = 0; pos < text_size;) {
      size_t end = chunk->paths.find('\n', pos);
      if (end == std::string::npos || end > text_size) end = text_size;
      ++n;
      const std::string_view line = std::string_view(chunk->paths).substr(pos, end - pos);
      const size_t line_off = pos;
      pos = end + 1;
      if (line.empty()) continue;
      if (!line.starts_with('/')) {
        return LineError(list_rel, n, "path '" + std::string(line) + "' is not absolute");
      }
      std::string_view p = NormalizeListView(line);
      if (p == "/") continue;
      // Copied: emit may append to (and so move) the arena p points into.
      if (cx.diversions.empty()) {
        emit(p, line_off);
      } else {
        std::string copy(p);
        emit(copy, line_off);
      }
    }
    return Status::Ok();
  }
  // No .list: the md5sums in file order (each path once), then conffiles
  // without an md5sums line.
  std::vector<Md5Entry> by_line;
  for (size_t i = 0; i < md5s.size(); ++i) {
    if (i == 0 || md5_path(md5s[i]) != md5_path(md5s[i - 1])) by_line.push_back(md5s[i]);
  }
  std::sort(by_line.begin(), by_line.end(),
            [](const Md5Entry& a, const Md5Entry& b) { return a.line < b.line; });
  std::string abs;
  for (const Md5Entry& e : by_line) {
    abs = "/";
    abs += md5_path(e);
    emit(abs, std::string::npos);
  }
  for (const DpkgConffile& c : st.conffiles) {
    if (find_md5(c.path) == nullptr) emit(c.path, std::string::npos);
  }
  return Status::Ok();
}

}  // namespace

Result<PackageDb> ReadDpkgDb(Host& host, const std::string& root, bool with_files) {
  PackageDb db;
  DW_ASSIGN_OR_RETURN(std::optional<std::string> status_text, ReadDbFile(host, root, kStatusFile));
  if (!status_text) return db;
  DW_ASSIGN_OR_RETURN(std::vector<DpkgStanza> stanzas, ParseDpkgStatus(*status_text, kStatusFile));
  status_text.reset();
  stanzas.erase(
      std::remove_if(stanzas.begin(), stanzas.end(),
                     [](const DpkgStanza& s) { return s.package.status == "not-installed"; }),
      stanzas.end());
  std::sort(stanzas.begin(), stanzas.end(), [](const DpkgStanza& a, const DpkgStanza& b) {
    return PackageLess(a.package, b.package);
  });
  for (const DpkgStanza& s : stanzas) db.packages.push_back(s.package);
  if (!with_files) return db;

  // Which info files exist: one directory listing instead of probing two
  // names (multiarch "pkg:arch.list" and plain "pkg.list") per package.
  std::unordered_set<std::string> info_names;
  {
    auto dir = host.OpenAt(AT_FDCWD, UnderRoot(root, kInfoDir), O_RDONLY | O_DIRECTORY);
    if (dir.ok()) {
      DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> names, host.ReadDir(dir->get()));
      info_names.reserve(names.size());
      for (DirEntryName& e : names) info_names.insert(std::move(e.name));
    } else if (dir.status().code() != StatusCode::kNotFound) {
      return dir.status();
    }
  }
  std::vector<DpkgDiversion> diversions;
  DW_ASSIGN_OR_RETURN(std::optional<std::string> div_text, ReadDbFile(host, root, kDiversionsFile));
  if (div_text) {
    DW_ASSIGN_OR_RETURN(std::vector<DpkgDiversion> list,
                        ParseDpkgDiversions(*div_text, kDiversionsFile));
    // The last diversion of a path wins, as a map keyed by it would keep.
    std::stable_sort(list.begin(), list.end(), [](const DpkgDiversion& a, const DpkgDiversion& b) {
      return a.from < b.from;
    });
    for (DpkgDiversion& d : list) {
      if (!diversions.empty() && diversions.back().from == d.from) {
        diversions.back() = std::move(d);
      } else {
        diversions.push_back(std::move(d));
      }
    }
  }

  // The packages' .list and .md5sums files are independent: they are read
  // and parsed on worker threads, each package into a chunk of its own that
  // the table then takes over whole (no second copy of the list).
  const FilesContext cx{host, root, info_names, diversions};
  std::vector<FileTable::Chunk> chunks(stanzas.size());
  std::vector<Status> errors(stanzas.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < stanzas.size(); i = next.fetch_add(1)) {
      errors[i] = ReadPackageFiles(cx, stanzas[i], static_cast<uint32_t>(i), &chunks[i]);
    }
  };
  const unsigned threads =
      std::min({kMaxReaderThreads, std::max(1u, std::thread::hardware_concurrency()),
                static_cast<unsigned>(std::max<size_t>(1, stanzas.size() / 16))});
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
  }
  for (size_t i = 0; i < stanzas.size(); ++i) {
    DW_RETURN_IF_ERROR(errors[i]);
    db.files.AddChunk(std::move(chunks[i]));
  }
  return db;
}

}  // namespace driftwatch::packages
