// The example configuration files the Debian packages install as conffiles
// (debian/conf/*.yaml, docs/packaging.md), read for tests that hold their
// commented defaults to the parsers' real defaults.
//
// Needs DW_SOURCE_DIR (the source tree's root) defined by the test's build.
#ifndef DRIFTWATCH_TESTS_TESTING_SHIPPED_CONFIG_H_
#define DRIFTWATCH_TESTS_TESTING_SHIPPED_CONFIG_H_

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace driftwatch::testing {

// The text of debian/conf/NAME; "" when it cannot be read.
inline std::string ReadShippedConfig(const std::string& name) {
  std::ifstream in(std::string(DW_SOURCE_DIR) + "/debian/conf/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with every commented-out key line ("#key: value", "#  key: value",
// "#  - key: value") made live; prose comments ("# Text ...") stay comments.
inline std::string UncommentKeys(const std::string& text) {
  static const std::regex kKeyLine("^#( *)(- )?[a-z_]+:( .*)?$");
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, kKeyLine)) line.erase(0, 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace driftwatch::testing

#endif  // DRIFTWATCH_TESTS_TESTING_SHIPPED_CONFIG_H_
