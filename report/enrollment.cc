#include "report/enrollment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <optional>

#include "core/private_file.h"
#include "core/sign.h"
#include "report/client.h"
#include "report/signing_trust.h"

namespace driftwatch::report {
namespace {

std::string Where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Result<EnrollFile> ParseRoot(const std::string& file, const YAML::Node& root) {
  if (!root || root.IsNull()) {
    return Status::InvalidArgument(file + ": empty; needs collector and token_file");
  }
  if (!root.IsMap()) {
    return Status::InvalidArgument(Where(file, root.Mark()) + ": expected a mapping");
  }
  EnrollFile e;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string at = Where(file, v.Mark());
    if (key != "version" && key != "collector" && key != "group" && key != "ca_file" &&
        key != "token_file") {
      return Status::InvalidArgument(Where(file, kv.first.Mark()) + ": unknown key '" + key + "'");
    }
    if (!v.IsScalar()) return Status::InvalidArgument(at + ": " + key + ": expected a scalar");
    const std::string s = v.Scalar();
    if (key == "version" && s != "1") {
      return Status::Unsupported(at + ": enroll file version " + s +
                                 " is not supported (this build knows version 1)");
    }
    if (key == "collector") {
      if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
        return Status::InvalidArgument(at + ": collector: expected an http(s) URL");
      }
      e.collector = s;
    }
    if (key == "group") e.group = s;
    if (key == "ca_file") e.ca_file = s;
    if (key == "token_file") e.token_file = s;
  }
  if (e.collector.empty()) return Status::InvalidArgument(file + ": missing 'collector'");
  if (e.token_file.empty()) return Status::InvalidArgument(file + ": missing 'token_file'");
  return e;
}

}  // namespace

Result<EnrollFile> ParseEnrollFile(std::string_view yaml, const std::string& file) {
  try {
    return ParseRoot(file, YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Where(file, e.mark) + ": " + e.msg);
  }
}

Result<EnrollFile> LoadEnrollFile(Host& host, const std::string& path) {
  DW_ASSIGN_OR_RETURN(std::string text, host.ReadFile(path, size_t{64} << 10));
  return ParseEnrollFile(text, path);
}

Result<std::string> TokenFromText(std::string_view text, const std::string& source) {
  std::string_view token = text.substr(0, text.find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  if (token.empty()) return Status::InvalidArgument(source + ": no token");
  return std::string(token);
}

Result<std::string> ReadTokenFile(Host& host, const std::string& path) {
  // One open: the mode checked is the mode of the file read, whatever is
  // renamed over `path` meanwhile. O_NONBLOCK: a FIFO would otherwise wait
  // for a writer in open, and a device may block; the type is checked on the
  // fd before any read.
  auto fd = host.OpenAt(AT_FDCWD, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd.ok()) return fd.status().WithContext("token file");
  struct stat st {};
  DW_RETURN_IF_ERROR(host.Fstat(fd->get(), &st).WithContext("token file: " + path));
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("token file: " + path + ": not a regular file (" +
                                   FileTypeName(st.st_mode) + ")");
  }
  DW_RETURN_IF_ERROR(CheckPrivate(st, path, "the token", "use"));
  std::string text;
  char buf[kMaxTokenFileBytes + 1];
  while (text.size() <= kMaxTokenFileBytes) {
    auto n = host.Read(fd->get(), buf, sizeof buf);
    if (!n.ok()) return n.status().WithContext("token file: " + path);
    if (*n == 0) break;
    text.append(buf, *n);
  }
  if (text.size() > kMaxTokenFileBytes) {
    return Status::ResourceExhausted("token file: " + path + ": larger than " +
                                     std::to_string(kMaxTokenFileBytes) + " bytes");
  }
  return TokenFromText(text, path);
}

Result<Enrollment> EnrollAndSave(Outbox& outbox, const EnrollRequest& r) {
  CollectorClient client(r.collector, r.token, r.ca_file);
  DW_ASSIGN_OR_RETURN(EnrollAnswer answer, client.Enroll(r.name, r.group));
  Enrollment e;
  e.collector = r.collector;
  e.host_id = answer.host_id;
  e.token = answer.token;
  e.group = answer.group;
  e.ca_file = r.ca_file;
  e.enrolled_ns = r.now_ns;
  std::optional<sign::PublicKey> key;
  if (!answer.signing_key.empty()) {
    auto parsed = sign::PublicKey::FromPem(answer.signing_key);
    if (!parsed.ok()) return parsed.status().WithContext("enroll: the collector's signing key");
    key = std::move(parsed).value();
  }
  DW_RETURN_IF_ERROR(outbox.SaveEnrollment(e));
  if (key && !r.db_path.empty()) DW_RETURN_IF_ERROR(SavePinnedKey(r.db_path, *key));
  return e;
}

}  // namespace driftwatch::report
