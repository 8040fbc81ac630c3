#include "core/actor.h"

#include "core/drift.h"

namespace driftwatch {

std::string FormatActor(const Actor& a) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (!out.empty()) out += ", ";
    out += part;
  };
  if (!a.exe.empty()) {
    add(EscapePath(a.exe));
  } else if (!a.comm.empty()) {
    add(EscapePath(a.comm));
  }
  add("pid " + std::to_string(a.pid));
  if (a.uid >= 0) {
    std::string uid = "uid " + std::to_string(a.uid);
    if (!a.login.empty()) {
      uid += " (login " + EscapePath(a.login) + ")";
    } else if (a.loginuid >= 0 && a.loginuid != a.uid) {
      uid += " (loginuid " + std::to_string(a.loginuid) + ")";
    }
    add(uid);
  }
  if (a.euid >= 0 && a.euid != a.uid) add("euid " + std::to_string(a.euid));
  if (!a.container.empty()) add("in " + EscapePath(a.container));
  if (a.exited) add("exited");
  return out;
}

}  // namespace driftwatch
