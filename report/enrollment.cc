#include "report/enrollment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "report/client.h"

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
  auto text = host.ReadFile(path, kMaxTokenFileBytes);
  if (!text.ok()) return text.status().WithContext("token file");
  struct stat st {};
  DW_RETURN_IF_ERROR(host.StatAt(AT_FDCWD, path, &st).WithContext("token file"));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied(path + ": mode " + mode +
                                    " lets other users read the token; refusing to use it. "
                                    "Fix: chmod 600 " +
                                    path);
  }
  return TokenFromText(*text, path);
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
  DW_RETURN_IF_ERROR(outbox.SaveEnrollment(e));
  return e;
}

}  // namespace driftwatch::report
