#include "tests/runtimes/oracle.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <sstream>

namespace driftwatch::rt {
namespace {

using web::json::value;

bool IsDirAt(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ExistsAt(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string TypeOf(const value& e) {
  for (const char* side : {"new", "old"}) {
    if (e.has_field(side) && e.at(side).has_field("type")) return e.at(side).at("type").as_string();
  }
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseRuntimeDiff(const std::string& text,
                                                                  std::vector<std::string>* bad) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.size() < 4 || line[1] != ' ' || line[2] != '/') {
      bad->push_back(line);
      continue;
    }
    const std::string path = line.substr(2);
    switch (line[0]) {
      case 'A':
        out.emplace_back("added", path);
        break;
      case 'C':
        out.emplace_back("modified", path);
        break;
      case 'D':
        out.emplace_back("removed", path);
        break;
      default:
        bad->push_back(line);
    }
  }
  return out;
}

Changes FilesOfRuntimeDiff(const std::vector<std::pair<std::string, std::string>>& diff,
                           const std::string& merged, const std::string& image) {
  Changes out;
  for (const auto& [kind, path] : diff) {
    const std::string where = (kind == "removed" ? image : merged) + path;
    if (!IsDirAt(where)) out.insert(kind + " " + path);
  }
  return out;
}

Changes FilesOfEvents(const value& events) {
  Changes out;
  for (const value& e : events.as_array()) {
    if (TypeOf(e) != "dir") out.insert(e.at("kind").as_string() + " " + e.at("path").as_string());
  }
  return out;
}

std::vector<std::string> EventsUnder(const value& events,
                                     const std::vector<std::string>& prefixes) {
  std::vector<std::string> out;
  for (const value& e : events.as_array()) {
    const std::string path = e.at("path").as_string();
    for (const std::string& p : prefixes) {
      if (path == p || path.rfind(p + "/", 0) == 0) out.push_back(path);
    }
  }
  return out;
}

Changes FilesOfUpperDir(const std::string& upper, const std::string& image) {
  namespace fs = std::filesystem;
  Changes out;
  std::error_code ec;
  // Bounded by the upper dir of a test container: a few dozen entries.
  for (auto it = fs::recursive_directory_iterator(upper, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string full = it->path().string();
    const std::string path = full.substr(upper.size());
    struct stat st;
    if (lstat(full.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      out.insert("removed " + path);
    } else {
      out.insert((ExistsAt(image + path) ? "modified " : "added ") + path);
    }
  }
  return out;
}

}  // namespace driftwatch::rt
