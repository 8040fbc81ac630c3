#include "cli/cli_args.h"

#include <iostream>

namespace driftwatch::cli {

Result<Args> Args::Parse(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.rest_.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 3 || a.rfind("--", 0) != 0) {
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return Status::InvalidArgument("unknown flag --" + name);
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Status::InvalidArgument("flag --" + name + " needs a value");
      }
    } else if (inline_value) {
      return Status::InvalidArgument("flag --" + name + " takes no value");
    }
    auto& slot = out.values_[name];
    if (!slot.empty() && !spec->repeated) {
      return Status::InvalidArgument("flag --" + name + " given twice");
    }
    slot.push_back(value);
  }
  return out;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string Args::GetOr(const std::string& name, const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

const std::vector<std::string>& Args::GetAll(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

int Fail(const Status& status) {
  std::cerr << "driftwatch: " << status.message() << "\n";
  return kExitError;
}

}  // namespace driftwatch::cli
