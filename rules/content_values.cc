// Values of the content and peer keys of the rule language (policy.h, docs/rules.md).
#include <cctype>
#include <charconv>

#include "rules/policy.h"

namespace driftwatch::rules {

std::string_view ContentModeName(ContentMode m) {
  switch (m) {
    case ContentMode::kKeep:
      return "keep";
    case ContentMode::kRedact:
      return "redact";
    case ContentMode::kNone:
      break;
  }
  return "none";
}

Result<ContentMode> ParseContentMode(std::string_view name) {
  if (name == "keep") return ContentMode::kKeep;
  if (name == "redact") return ContentMode::kRedact;
  if (name == "none") return ContentMode::kNone;
  return Status::InvalidArgument("unknown content mode '" + std::string(name) +
                                 "' (expected keep, redact or none)");
}

std::string_view PeerModeName(PeerMode m) { return m == PeerMode::kIgnore ? "ignore" : "compare"; }

Result<PeerMode> ParsePeerMode(std::string_view name) {
  if (name == "ignore") return PeerMode::kIgnore;
  if (name == "compare") return PeerMode::kCompare;
  return Status::InvalidArgument("unknown peer mode '" + std::string(name) +
                                 "' (expected ignore or compare)");
}

Result<uint64_t> ParseContentSize(std::string_view text) {
  const std::string what = "'" + std::string(text) + "'";
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) {
    return Status::InvalidArgument(what + " is not a size (expected bytes or a K, M or G suffix)");
  }
  std::string suffix(end, text.data() + text.size());
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "K" || suffix == "KIB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MIB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GIB") {
    shift = 30;
  } else {
    return Status::InvalidArgument(what + " has an unknown unit (expected K, M or G)");
  }
  if (number > (kMaxContentMaxBytes >> shift)) {
    return Status::InvalidArgument(what + " is more than " +
                                   std::to_string(kMaxContentMaxBytes >> 20) + "M");
  }
  return number << shift;
}

}  // namespace driftwatch::rules
