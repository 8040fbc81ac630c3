// Hand-made host trees for the browser tests, in the collector's wire form:
// tree ids are XXH3-128 of SerializeTree bytes, which a test in JavaScript
// cannot compute. Reads a spec from stdin:
//   {"web-1": {"/etc/hostname": {"content": "web-1\n", "perm": "0644"},
//              "/etc/motd": {"link": "/run/motd"}}, ...}
// (a path with "content" is a file, with "link" a symlink, with "dir": true
// a directory; parents are made as directories) and prints
//   {"web-1": {"root": HEX, "objects": [{"id": HEX, "data": BASE64}, ...]}}
// with each host's objects children first, ready for POST /trees/objects.
// Exit status 2 with a message on a spec it cannot read.
#include <cpprest/json.h>

#include <iostream>
#include <iterator>
#include <string>

#include "core/base64.h"
#include "tests/testing/memory_tree_store.h"

namespace {

using driftwatch::Entry;
using driftwatch::testutil::TreeBuilder;
using web::json::value;

int Main() {
  const std::string text((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
  value spec;
  try {
    spec = value::parse(text);
  } catch (const web::json::json_exception& e) {
    std::cerr << "tree_fixture: " << e.what() << "\n";
    return 2;
  }
  if (!spec.is_object()) {
    std::cerr << "tree_fixture: expected an object of hosts\n";
    return 2;
  }
  value out = value::object();
  for (const auto& [host, paths] : spec.as_object()) {
    if (!paths.is_object()) {
      std::cerr << "tree_fixture: " << host << ": expected an object of paths\n";
      return 2;
    }
    TreeBuilder b;
    for (const auto& [path, e] : paths.as_object()) {
      Entry entry;
      if (e.has_field("content")) {
        entry = driftwatch::testutil::TestFile(e.at("content").as_string());
      } else if (e.has_field("link")) {
        entry = driftwatch::testutil::TestLink(e.at("link").as_string());
      } else {
        entry = driftwatch::testutil::TestDir();
      }
      if (e.has_field("perm")) entry.mode = std::stoul(e.at("perm").as_string(), nullptr, 8);
      b.Add(path, entry);
    }
    const TreeBuilder::Built built = b.Build();
    value objects = value::array(built.objects.size());
    for (size_t i = 0; i < built.objects.size(); ++i) {
      value o = value::object();
      o["id"] = value(built.objects[i].id.Hex());
      o["data"] = value(driftwatch::Base64Encode(built.objects[i].data));
      objects[i] = o;
    }
    value h = value::object();
    h["root"] = value(built.root.Hex());
    h["objects"] = objects;
    out[host] = h;
  }
  std::cout << out.serialize() << "\n";
  return 0;
}

}  // namespace

int main() { return Main(); }
