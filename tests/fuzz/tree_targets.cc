// Fuzz target of the collector's tree upload (see tests/fuzz/targets.h):
// arbitrary bytes as a tree object sent to POST /trees/objects, or as the
// JSON body of the trees' agent endpoints (docs/api.md "Fleet trees").
#include <cpprest/json.h>

#include <memory>
#include <string>

#include "collector/api.h"
#include "collector/auth.h"
#include "collector/sqlite_store.h"
#include "core/base64.h"
#include "core/entry.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {
namespace {

using web::json::value;

// A collector API over an in-memory store with one enrolled host, whose
// agent token is "h" (its hash is the one enrolled), built once per process.
struct TreeApiFixture {
  std::unique_ptr<collector::FleetStore> store;
  collector::LiveConfig live;
  collector::Metrics metrics;
  std::unique_ptr<collector::Api> api;
  std::string error;

  TreeApiFixture() {
    auto s = collector::OpenSqliteStore(":memory:");
    if (!s.ok()) {
      error = s.status().message();
      return;
    }
    store = std::move(s).value();
    constexpr int64_t t0 = 1793491200LL * 1000000000;
    if (!store->EnrollHost("h", "web", "fuzz", collector::HashToken("h"), t0, "").ok()) {
      error = "enroll";
      return;
    }
    api = std::make_unique<collector::Api>(
        *store, live, metrics, [] { return t0; }, nullptr);
  }
};

collector::HttpResponse Post(TreeApiFixture& fx, const std::string& path, const std::string& body) {
  collector::HttpRequest req;
  req.method = "POST";
  req.path = path;
  req.authorization = "Bearer h";
  req.body = body;
  return fx.api->Handle(req);
}

// "" when the answer is a JSON object with a status the route may give
// (200, 400 or 409) and, for an error, a code and a detail.
std::string CheckAnswer(const collector::HttpResponse& r) {
  value body;
  try {
    body = value::parse(r.body);
  } catch (const std::exception&) {
    return "answer is not JSON: " + r.body.substr(0, 200);
  }
  if (!body.is_object()) return "answer is not a JSON object";
  if (r.status != 200 && r.status != 400 && r.status != 409) {
    return "unexpected status " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
  }
  if (r.status != 200 && (!body.has_string_field("error") || !body.has_string_field("detail"))) {
    return "error without a code or detail: " + r.body.substr(0, 300);
  }
  return "";
}

}  // namespace

std::string FuzzTreeUpload(std::string_view input) {
  static TreeApiFixture* fx = new TreeApiFixture();  // lives for the process
  if (!fx->error.empty()) return "fixture: " + fx->error;
  if (input.empty()) return "";
  const unsigned mode = static_cast<unsigned char>(input[0]) % 5;
  const std::string rest(input.substr(1));
  if (mode != 0) {
    // The rest as the JSON body of one endpoint.
    static const char* const kPaths[] = {"/api/v1/trees/objects", "/api/v1/trees/offer",
                                         "/api/v1/trees/fetch", "/api/v1/agents/tree"};
    return CheckAnswer(Post(*fx, kPaths[mode - 1], rest));
  }
  // The rest as one tree object, under its own id.
  const Hash128 id = TreeHash(rest);
  value o = value::object();
  o["id"] = value(id.Hex());
  o["data"] = value(Base64Encode(rest));
  value list = value::array(1);
  list[0] = o;
  value body = value::object();
  body["objects"] = list;
  const collector::HttpResponse r = Post(*fx, "/api/v1/trees/objects", body.serialize());
  if (std::string f = CheckAnswer(r); !f.empty()) return f;
  const bool parses = ParseTree(rest).ok();
  auto held = fx->store->trees().GetTrees({id});
  if (!held.ok()) return "GetTrees: " + held.status().message();
  if (r.status == 200) {
    // Stored as sent, and only a tree object is.
    if (!parses) return "an object that is not a tree was stored";
    if ((*held)[0] != rest) return "the stored object differs from the one sent";
  } else if (r.status == 400) {
    if (parses) return "a tree object was refused as bad: " + r.body.substr(0, 300);
    if ((*held)[0]) return "a refused object is held";
  } else if ((*held)[0]) {
    return "an object whose subtrees are missing is held";
  }
  return "";
}

}  // namespace driftwatch::fuzz
