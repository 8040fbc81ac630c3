#include "core/entry.h"

#include <sys/stat.h>

#include <array>
#include <cstring>

namespace driftwatch {
namespace {

constexpr std::array<std::string_view, 14> kAttrNames = {
    "type",  "perm",  "uid",  "gid",  "size", "mtime",  "ctime",
    "inode", "nlink", "rdev", "link", "hash", "xattrs", "growing"};

// One append per varint (not a push_back per byte): serializing is on the
// path of every scanned directory (docs/decisions.md, "Small files").
void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

// The 16 big-endian bytes of Hash128::Bytes, without a temporary string.
void PutHash(std::string* out, const Hash128& h) {
  char buf[16];
  for (int i = 0; i < 8; ++i) {
    buf[i] = static_cast<char>(h.high >> (56 - 8 * i));
    buf[8 + i] = static_cast<char>(h.low >> (56 - 8 * i));
  }
  out->append(buf, sizeof buf);
}

void PutBytes(std::string* out, std::string_view b) {
  PutVarint(out, b.size());
  out->append(b);
}

// Zigzag keeps small negative timestamps (before 1970) short.
uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t Unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Raw(void* dst, size_t n) {
    if (n > in_.size() - pos_) return false;
    std::memcpy(dst, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kFifo:
      return "fifo";
    case EntryType::kSocket:
      return "socket";
    case EntryType::kCharDev:
      return "chardev";
    case EntryType::kBlockDev:
      return "blockdev";
  }
  return "unknown";
}

bool EntryTypeFromMode(uint32_t m, EntryType* out) {
  switch (m & S_IFMT) {
    case S_IFREG:
      *out = EntryType::kFile;
      return true;
    case S_IFDIR:
      *out = EntryType::kDir;
      return true;
    case S_IFLNK:
      *out = EntryType::kSymlink;
      return true;
    case S_IFIFO:
      *out = EntryType::kFifo;
      return true;
    case S_IFSOCK:
      *out = EntryType::kSocket;
      return true;
    case S_IFCHR:
      *out = EntryType::kCharDev;
      return true;
    case S_IFBLK:
      *out = EntryType::kBlockDev;
      return true;
    default:
      return false;
  }
}

std::string_view AttrName(Attr a) {
  for (size_t i = 0; i < kAttrNames.size(); ++i) {
    if (a == (1u << i)) return kAttrNames[i];
  }
  return "unknown";
}

uint32_t AttrFromName(std::string_view name) {
  for (size_t i = 0; i < kAttrNames.size(); ++i) {
    if (kAttrNames[i] == name) return 1u << i;
  }
  return 0;
}

std::vector<std::string_view> AttrNames(uint32_t mask) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < kAttrNames.size(); ++i) {
    if (mask & (1u << i)) out.push_back(kAttrNames[i]);
  }
  return out;
}

void Entry::ApplyMask() {
  mask |= kAttrType;
  if (!(mask & kAttrPerm)) mode = 0;
  if (!(mask & kAttrUid)) uid = 0;
  if (!(mask & kAttrGid)) gid = 0;
  if (!(mask & kAttrSize) && !(mask & kAttrGrowing)) size = 0;
  if (!(mask & kAttrMtime)) mtime_ns = 0;
  if (!(mask & kAttrCtime)) ctime_ns = 0;
  if (!(mask & kAttrInode)) inode = 0;
  if (!(mask & kAttrNlink)) nlink = 0;
  if (!(mask & kAttrRdev) || (type != EntryType::kCharDev && type != EntryType::kBlockDev))
    rdev = 0;
  if (!(mask & kAttrLink) || type != EntryType::kSymlink) link_target.clear();
  if (!(mask & kAttrHash) || type != EntryType::kFile) content = Digest();
  if (!(mask & kAttrXattrs)) xattrs = Hash128();
  if (type != EntryType::kDir) subtree = Hash128();
}

uint32_t ChangedAttrs(const Entry& a, const Entry& b) {
  if (a.type != b.type) return kAttrType;
  const uint32_t m = a.mask & b.mask;
  uint32_t c = 0;
  if ((m & kAttrPerm) && a.mode != b.mode) c |= kAttrPerm;
  if ((m & kAttrUid) && a.uid != b.uid) c |= kAttrUid;
  if ((m & kAttrGid) && a.gid != b.gid) c |= kAttrGid;
  if ((m & (kAttrSize | kAttrGrowing)) && a.size != b.size) c |= kAttrSize;
  if ((m & kAttrMtime) && a.mtime_ns != b.mtime_ns) c |= kAttrMtime;
  if ((m & kAttrCtime) && a.ctime_ns != b.ctime_ns) c |= kAttrCtime;
  if ((m & kAttrInode) && a.inode != b.inode) c |= kAttrInode;
  if ((m & kAttrNlink) && a.nlink != b.nlink) c |= kAttrNlink;
  if ((m & kAttrRdev) && a.rdev != b.rdev) c |= kAttrRdev;
  if ((m & kAttrLink) && a.link_target != b.link_target) c |= kAttrLink;
  if ((m & kAttrHash) && a.content != b.content) c |= kAttrHash;
  if ((m & kAttrXattrs) && a.xattrs != b.xattrs) c |= kAttrXattrs;
  return c;
}

std::string SerializeTree(const Tree& tree) {
  std::string out;
  out.reserve(16 + tree.entries.size() * 64);
  out.push_back(static_cast<char>(kTreeFormatVersion));
  PutVarint(&out, tree.entries.size());
  for (const Entry& e : tree.entries) {
    PutBytes(&out, e.name);
    out.push_back(static_cast<char>(e.type));
    PutVarint(&out, e.mask | (e.structural ? (1u << 31) : 0));
    const uint32_t m = e.mask;
    if (m & kAttrPerm) PutVarint(&out, e.mode);
    if (m & kAttrUid) PutVarint(&out, e.uid);
    if (m & kAttrGid) PutVarint(&out, e.gid);
    if (m & (kAttrSize | kAttrGrowing)) PutVarint(&out, e.size);
    if (m & kAttrMtime) PutVarint(&out, Zigzag(e.mtime_ns));
    if (m & kAttrCtime) PutVarint(&out, Zigzag(e.ctime_ns));
    if (m & kAttrInode) PutVarint(&out, e.inode);
    if (m & kAttrNlink) PutVarint(&out, e.nlink);
    if (m & kAttrRdev) PutVarint(&out, e.rdev);
    if (m & kAttrLink) PutBytes(&out, e.link_target);
    if (m & kAttrHash) {
      out.push_back(static_cast<char>(e.content.algo));
      out.append(reinterpret_cast<const char*>(e.content.bytes.data()), e.content.size());
    }
    if (m & kAttrXattrs) PutHash(&out, e.xattrs);
    if (e.type == EntryType::kDir) PutHash(&out, e.subtree);
  }
  return out;
}

Result<Tree> ParseTree(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version = 0;
  if (!r.Raw(&version, 1)) return Status::Corruption("tree: empty");
  if (version != kTreeFormatVersion) {
    return Status::Unsupported("tree: format version " + std::to_string(version) +
                               " is not supported (this build reads version " +
                               std::to_string(kTreeFormatVersion) + ")");
  }
  uint64_t count;
  if (!r.Varint(&count) || count > bytes.size()) return Status::Corruption("tree: bad entry count");
  Tree tree;
  tree.entries.reserve(count);
  const Status bad = Status::Corruption("tree: truncated or malformed entry");
  for (uint64_t i = 0; i < count; ++i) {
    Entry e;
    uint8_t type;
    uint64_t mask, v;
    if (!r.Bytes(&e.name) || !r.Raw(&type, 1) || !r.Varint(&mask)) return bad;
    if (type < 1 || type > 7) return bad;
    e.type = static_cast<EntryType>(type);
    e.structural = (mask & (1u << 31)) != 0;
    e.mask = static_cast<uint32_t>(mask) & kAllAttrs;
    const uint32_t m = e.mask;
    if (m & kAttrPerm) {
      if (!r.Varint(&v)) return bad;
      e.mode = static_cast<uint32_t>(v);
    }
    if (m & kAttrUid) {
      if (!r.Varint(&v)) return bad;
      e.uid = static_cast<uint32_t>(v);
    }
    if (m & kAttrGid) {
      if (!r.Varint(&v)) return bad;
      e.gid = static_cast<uint32_t>(v);
    }
    if (m & (kAttrSize | kAttrGrowing)) {
      if (!r.Varint(&e.size)) return bad;
    }
    if (m & kAttrMtime) {
      if (!r.Varint(&v)) return bad;
      e.mtime_ns = Unzigzag(v);
    }
    if (m & kAttrCtime) {
      if (!r.Varint(&v)) return bad;
      e.ctime_ns = Unzigzag(v);
    }
    if (m & kAttrInode) {
      if (!r.Varint(&e.inode)) return bad;
    }
    if (m & kAttrNlink) {
      if (!r.Varint(&e.nlink)) return bad;
    }
    if (m & kAttrRdev) {
      if (!r.Varint(&e.rdev)) return bad;
    }
    if (m & kAttrLink) {
      if (!r.Bytes(&e.link_target)) return bad;
    }
    if (m & kAttrHash) {
      uint8_t algo;
      if (!r.Raw(&algo, 1) || algo > 2) return bad;
      e.content.algo = static_cast<HashAlgo>(algo);
      if (!r.Raw(e.content.bytes.data(), e.content.size())) return bad;
    }
    if (m & kAttrXattrs) {
      char b[16];
      if (!r.Raw(b, 16)) return bad;
      e.xattrs = Hash128::FromBytes(std::string_view(b, 16)).value();
    }
    if (e.type == EntryType::kDir) {
      char b[16];
      if (!r.Raw(b, 16)) return bad;
      e.subtree = Hash128::FromBytes(std::string_view(b, 16)).value();
    }
    if (!tree.entries.empty() && !(tree.entries.back().name < e.name)) {
      return Status::Corruption("tree: entries not sorted");
    }
    tree.entries.push_back(std::move(e));
  }
  if (!r.done()) return Status::Corruption("tree: trailing bytes");
  return tree;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir == "/" ? std::string_view() : dir);
  out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace driftwatch
