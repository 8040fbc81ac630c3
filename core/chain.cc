#include "core/chain.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>

namespace driftwatch::chain {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

bool Unhex32(std::string_view hex, std::array<unsigned char, 32>& out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// A minimal reader for the flat objects BodyBuilder writes.
class BodyReader {
 public:
  explicit BodyReader(std::string_view s) : s_(s) {}

  Result<std::map<std::string, std::string>> Object() {
    std::map<std::string, std::string> out;
    if (!Eat('{')) return Bad("expected '{'");
    if (Eat('}')) return End(std::move(out));
    do {
      std::string key;
      if (!String(key)) return Bad("expected a key");
      if (!Eat(':')) return Bad("expected ':'");
      std::string value;
      if (!Value(value)) return Bad("bad value of \"" + key + "\"");
      out[key] = std::move(value);
    } while (Eat(','));
    if (!Eat('}')) return Bad("expected '}'");
    return End(std::move(out));
  }

 private:
  Result<std::map<std::string, std::string>> End(std::map<std::string, std::string> out) {
    if (i_ != s_.size()) return Bad("trailing bytes");
    return out;
  }
  Status Bad(const std::string& why) const {
    return Status::InvalidArgument("chain record body at byte " + std::to_string(i_) + ": " + why);
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          unsigned v = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            v <<= 4;
            if (h >= '0' && h <= '9')
              v |= h - '0';
            else if (h >= 'a' && h <= 'f')
              v |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F')
              v |= h - 'A' + 10;
            else
              return false;
          }
          if (v > 0x7f) return false;  // BodyBuilder escapes control bytes only
          out += static_cast<char>(v);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool Value(std::string& out) {
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '"') return String(out);
    if (c == '[') {
      ++i_;
      if (Eat(']')) return true;
      bool first = true;
      do {
        std::string item;
        if (!String(item)) return false;
        if (!first) out += '\n';
        out += item;
        first = false;
      } while (Eat(','));
      return Eat(']');
    }
    for (std::string_view word : {"true", "false"}) {
      if (s_.substr(i_, word.size()) == word) {
        out = word;
        i_ += word.size();
        return true;
      }
    }
    const size_t start = i_;
    if (Eat('-')) {
    }
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == start || (i_ == start + 1 && s_[start] == '-')) return false;
    out = std::string(s_.substr(start, i_ - start));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

const std::string& GenesisHead() {
  static const std::string kZero(64, '0');
  return kZero;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string RecordHash(const Record& r) {
  std::string text = "driftwatch-chain-1\n";
  text += std::to_string(r.seq);
  text += '\n';
  text += r.kind;
  text += '\n';
  text += std::to_string(r.time_ns);
  text += '\n';
  text += r.body;
  return Sha256Hex(text);
}

std::string NextHead(std::string_view prev_head, std::string_view record_hash) {
  std::array<unsigned char, 64> both;
  std::array<unsigned char, 32> a, b;
  if (!Unhex32(prev_head, a) || !Unhex32(record_hash, b)) return "";
  std::copy(a.begin(), a.end(), both.begin());
  std::copy(b.begin(), b.end(), both.begin() + 32);
  return Sha256Hex(std::string_view(reinterpret_cast<const char*>(both.data()), both.size()));
}

size_t FirstMismatch(std::string_view start_head, int64_t start_seq,
                     const std::vector<Record>& records,
                     const std::vector<std::string>& expected_heads,
                     std::vector<std::string>* heads_out) {
  std::string head(start_head);
  int64_t seq = start_seq;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].seq != seq + 1) return i;
    head = NextHead(head, RecordHash(records[i]));
    if (head.empty()) return i;
    if (!expected_heads.empty() && (i >= expected_heads.size() || expected_heads[i] != head)) {
      return i;
    }
    if (heads_out != nullptr) heads_out->push_back(head);
    seq = records[i].seq;
  }
  return records.size();
}

BodyBuilder& BodyBuilder::Str(std::string_view key, std::string_view value) {
  fields_[std::string(key)] = Quote(value);
  return *this;
}

BodyBuilder& BodyBuilder::Int(std::string_view key, int64_t value) {
  fields_[std::string(key)] = std::to_string(value);
  return *this;
}

BodyBuilder& BodyBuilder::Bool(std::string_view key, bool value) {
  fields_[std::string(key)] = value ? "true" : "false";
  return *this;
}

BodyBuilder& BodyBuilder::StrList(std::string_view key, const std::vector<std::string>& values) {
  std::string v = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) v += ',';
    v += Quote(values[i]);
  }
  v += ']';
  fields_[std::string(key)] = std::move(v);
  return *this;
}

std::string BodyBuilder::Build() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : fields_) {
    if (!first) out += ',';
    first = false;
    out += Quote(key);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

Result<std::map<std::string, std::string>> ParseBody(std::string_view body) {
  return BodyReader(body).Object();
}

}  // namespace driftwatch::chain
