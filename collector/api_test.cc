#include "collector/api.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cpprest/json.h>

#include <optional>

#include "collector/api_test_fixture.h"
#include "tests/testing/container_row.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

// docs/api.md "Authentication": after 20 failed authentications from one
// address every request from it is 429 with Retry-After until an attempt
// refills (one a second), whatever its token.
TEST_F(ApiTest, FailedAuthenticationLockoutSaysWhenToRetry) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Call("GET", "/api/v1/hosts", "dw_wrong").status, 401) << i;
  }
  HttpResponse r = Call("GET", "/api/v1/hosts", read_);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            R"({"detail":"too many failed authentication attempts from this address; retry in )"
            R"(1 s","error":"too_many_requests"})");
  EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"Retry-After", "1"}}));
  now_ += 1000000000;
  EXPECT_EQ(Call("GET", "/api/v1/hosts", read_).status, 200);
}

TEST_F(ApiTest, AuthenticationAndRoles) {
  EXPECT_EQ(Call("GET", "/api/v1/hosts", "").body,
            R"({"detail":"missing bearer token","error":"unauthorized"})");
  EXPECT_EQ(Call("GET", "/api/v1/hosts", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/hosts", "dw_nope").status, 401);
  HttpResponse r = Call("GET", "/api/v1/hosts", enroll_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body,
            R"({"detail":"a token of role 'enroll' may not list hosts","error":"forbidden"})");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/x/commands", read_, R"({"command":"baseline"})").status,
            403);
  EXPECT_EQ(Call("POST", "/api/v1/enroll", read_, R"({"host":"a"})").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/hosts", read_).body, R"({"hosts":[]})");
  EXPECT_EQ(Call("GET", "/healthz", "").body, R"({"status":"ok"})");
  EXPECT_EQ(Call("GET", "/api/v1/whoami", read_).body, R"({"role":"read"})");
  EXPECT_EQ(Call("GET", "/api/v1/whoami", admin_).body, R"({"role":"admin"})");
  EXPECT_EQ(Call("GET", "/api/v1/whoami", "").status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/hosts", admin_).status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/nothing", admin_).status, 404);
}

TEST_F(ApiTest, ReportIngestAndQuery) {
  std::string web1 = Enroll("web-1", "web");
  std::string web2 = Enroll("web-2", "web");
  EXPECT_EQ(Call("POST", "/api/v1/enroll", enroll_, R"({"host":"web-1"})").status, 409);

  std::vector<DriftEvent> ev = {Event("/etc/passwd", DriftKind::kModified, Severity::kHigh),
                                Event("/etc/new", DriftKind::kAdded, Severity::kLow)};
  now_ = kT0 + 5;
  HttpResponse r = Call("POST", "/api/v1/reports", web1, Report(kId1, "web-1", ev, kT0 + 1));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string first = r.body;
  EXPECT_EQ(first, R"({"accepted":true,"duplicate":false,"events":2,"first_event_id":1,)"
                   R"("received":"2026-11-01T00:00:00.000000005Z","report_id":")" +
                       std::string(kId1) +
                       R"(","sequence":1,"summary":{"events":2,"folded":0,"folded_prefixes":[],)"
                       R"("kinds":{"added":1,"modified":1,"package-changed":0,)"
                       R"("package-file-modified":0,"package-installed":0,"package-removed":0,)"
                       R"("removed":0},"listed":2,"parts":1,)"
                       R"("severities":{"critical":0,"high":1,"low":1,"medium":0},)"
                       R"("subtrees":{"stored":1,"total":1},"warnings":{"stored":0,"total":0}}})");
  // The same report again: stored once, the original result.
  r = Call("POST", "/api/v1/reports", web1, Report(kId1, "web-1", ev, kT0 + 1));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string(first).replace(first.find("\"duplicate\":false"), 17,
                                               "\"duplicate\":true"));
  EXPECT_EQ(ingest_calls_, 1);
  // Another host's token cannot report as web-1.
  r = Call("POST", "/api/v1/reports", web2, Report(kId2, "web-1", ev, kT0 + 2));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body,
            R"({"detail":"this token belongs to host 'web-2' and cannot report as 'web-1'",)"
            R"("error":"forbidden"})");
  r = Call("POST", "/api/v1/reports", web2,
           Report(kId2, "web-2", {Event("/etc/passwd", DriftKind::kRemoved, Severity::kCritical)},
                  kT0 + 3));
  ASSERT_EQ(r.status, 200) << r.body;

  r = Call("GET", "/api/v1/drift?host=web-1&order=asc", read_);
  ASSERT_EQ(r.status, 200);
  value v = value::parse(r.body);
  ASSERT_EQ(v["events"].size(), 2u);
  value e0 = v["events"][0];
  EXPECT_EQ(
      e0.serialize(),
      R"({"attributes":["perm"],"detected":"2026-11-01T00:00:00.000000001Z",)"
      R"("has_diff":false,"host":"web-1","id":1,"kind":"modified","new":{"perm":"0600","type":"file"},)"
      R"("old":{"perm":"0644","type":"file"},"path":"/etc/passwd",)"
      R"("received":"2026-11-01T00:00:00.000000005Z","report_id":")" +
          std::string(kId1) + R"j(","rule":"/etc/** (host.yaml:3)","severity":"high"})j");
  EXPECT_TRUE(v["next_cursor"].is_null());

  auto ids = [&](const std::string& q) {
    HttpResponse resp = Call("GET", "/api/v1/drift" + q, read_);
    EXPECT_EQ(resp.status, 200) << q << " " << resp.body;
    std::vector<int64_t> out;
    const value page = value::parse(resp.body);
    for (const value& e : page.at("events").as_array()) {
      out.push_back(e.at("id").as_number().to_int64());
    }
    return out;
  };
  // Newest first by detection time (events 1 and 2 share theirs: by id).
  EXPECT_EQ(ids(""), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(ids("?order=desc"), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(ids("?order=asc"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ids("?severity=high"), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(ids("?kind=added"), (std::vector<int64_t>{2}));
  EXPECT_EQ(ids("?path=/etc/pass*"), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(ids("?group=web&host=web-2"), (std::vector<int64_t>{3}));
  EXPECT_EQ(ids("?since=2026-11-01T00:00:00.000000002Z"), (std::vector<int64_t>{3}));
  EXPECT_EQ(ids("?until=2026-11-01T00:00:00.000000002Z"), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ids("?host=x'%20OR%201=1--"), (std::vector<int64_t>{}));

  // Pagination: opaque cursors both ways, stable order.
  r = Call("GET", "/api/v1/drift?limit=2", read_);
  v = value::parse(r.body);
  ASSERT_EQ(v["events"].size(), 2u);
  EXPECT_TRUE(v["prev_cursor"].is_null());
  std::string cursor = v["next_cursor"].as_string();
  EXPECT_EQ(ids("?limit=2&cursor=" + cursor), (std::vector<int64_t>{1}));
  value last = value::parse(Call("GET", "/api/v1/drift?limit=2&cursor=" + cursor, read_).body);
  EXPECT_TRUE(last["next_cursor"].is_null());
  EXPECT_EQ(ids("?limit=2&cursor=" + last["prev_cursor"].as_string()),
            (std::vector<int64_t>{3, 2}));
  // The cursor carries its order: repeating it is fine, the other one is not.
  EXPECT_EQ(ids("?order=desc&limit=2&cursor=" + cursor), (std::vector<int64_t>{1}));
  EXPECT_EQ(Call("GET", "/api/v1/drift?order=asc&cursor=" + cursor, read_).body,
            R"({"detail":"cursor: made for order=desc, not order=asc; repeat that order or )"
            R"(start without a cursor","error":"bad_request"})");
  EXPECT_EQ(Call("GET", "/api/v1/drift?order=newest", read_).body,
            R"({"detail":"order: expected asc or desc","error":"bad_request"})");
  EXPECT_EQ(Call("GET", "/api/v1/paths/history?path=/etc/passwd&order=up", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/drift?cursor=bogus", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/drift?cursor=c1.2", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/drift?limit=0", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/drift?severity=urgent", read_).body,
            R"j({"detail":"severity: unknown severity 'urgent' (expected low, medium, high or )j"
            R"j(critical)","error":"bad_request"})j");
  EXPECT_EQ(Call("GET", "/api/v1/drift?colour=red", read_).status, 400);

  r = Call("GET", "/api/v1/paths/history?path=/etc/passwd", read_);
  v = value::parse(r.body);
  ASSERT_EQ(v["events"].size(), 2u);
  EXPECT_EQ(v["events"][0]["host"].as_string(), "web-2");
  EXPECT_EQ(v["events"][1]["host"].as_string(), "web-1");
  EXPECT_EQ(v["path"].as_string(), "/etc/passwd");
  EXPECT_EQ(v["events"][0]["kind"].as_string(), "removed");

  now_ = kT0 + int64_t{3} * 3600 * 1000000000;
  r = Call("GET", "/api/v1/fleet/summary", read_);
  v = value::parse(r.body);
  EXPECT_EQ(v["hosts"].as_integer(), 2);
  EXPECT_EQ(v["drifted_hosts"].as_integer(), 2);
  EXPECT_EQ(v["silent_hosts"].as_integer(), 2);
  EXPECT_EQ(v["events_by_severity"].serialize(), R"({"critical":1,"high":1,"low":1,"medium":0})");
  EXPECT_EQ(v["host_list"][0]["baseline_age_seconds"].as_integer(), 3 * 3600);

  r = Call("GET", "/api/v1/fleet/compare?a=web-1&b=web-2", read_);
  // Neither host has sent its tree: no paths, only the reports' subtrees.
  EXPECT_EQ(r.body, R"({"a":"web-1","b":"web-2","differ":["/etc"],"path":"/","paths":null,)"
                    R"("root_equal":false,"subtrees":[{"a":")" +
                        HashBytes("web-1").Hex() + R"(","b":")" + HashBytes("web-2").Hex() +
                        R"(","path":"/etc","status":"differ"}],)"
                        R"("trees":{"a":null,"b":null},"truncated":false})");
  EXPECT_EQ(Call("GET", "/api/v1/fleet/compare?a=web-1&b=nope", read_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/nope", read_).status, 404);
}

TEST_F(ApiTest, MalformedReportsAreRefusedWhole) {
  std::string tok = Enroll("db-1", "");
  auto post = [&](const std::string& body) { return Call("POST", "/api/v1/reports", tok, body); };
  EXPECT_EQ(post("{not json").status, 400);
  EXPECT_EQ(post("[]").status, 400);
  std::string good =
      Report(kId1, "db-1", {Event("/etc/a", DriftKind::kAdded, Severity::kLow)}, kT0);
  value v = value::parse(good);
  v["format"] = value::number(2);
  HttpResponse r = post(v.serialize());
  EXPECT_EQ(r.body, R"({"detail":"unsupported report format 2: this collector understands )"
                    R"(format 1","error":"invalid_report"})");
  v = value::parse(good);
  v.erase("format");
  EXPECT_EQ(post(v.serialize()).body,
            R"j({"detail":"format: missing (expected 1)","error":"invalid_report"})j");
  // A bad second event: nothing of the report is stored.
  v = value::parse(good);
  v["events"][1] = value::parse(R"({"path":"/etc/b","kind":"exploded","severity":"low"})");
  r = post(v.serialize());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"detail":"events[1].kind: expected one of added, modified, removed, )"
                    R"(package-installed, package-removed, package-changed, )"
                    R"(package-file-modified","error":"invalid_report"})");
  std::string deep(100, '[');
  EXPECT_EQ(post(R"({"x":)" + deep + "}").status, 400);
  v = value::parse(good);
  v["report_id"] = value("not-a-uuid");
  EXPECT_EQ(post(v.serialize()).status, 400);
  // A new configuration (a reload) applies from the next request on.
  CollectorConfig one_event = *config_.Get();
  one_event.max_events_per_report = 1;
  config_.Set(one_event);
  v = value::parse(good);
  value first_event = v["events"][0];
  v["events"][1] = first_event;
  EXPECT_EQ(post(v.serialize()).status, 413);
  EXPECT_EQ(Call("GET", "/api/v1/drift", read_).body,
            R"({"events":[],"next_cursor":null,"prev_cursor":null})");
  EXPECT_EQ(metrics_.reports_rejected.load(), 8);
  // Bytes that are no JSON object are "malformed" (an agent retries them);
  // a report that fails validation is "invalid_report" (final).
  EXPECT_EQ(value::parse(post("{not json").body).at("error").as_string(), "bad_request");
  EXPECT_EQ(metrics_.refused_malformed.load(), 4);
  EXPECT_EQ(metrics_.refused_invalid.load(), 4);
  EXPECT_EQ(metrics_.refused_too_large.load(), 1);
  // Every refusal is recorded on the host, with the latest reason.
  value h = value::parse(Call("GET", "/api/v1/hosts/db-1", read_).body);
  EXPECT_EQ(h["reports_refused"]["count"].as_integer(), 9);
  EXPECT_EQ(h["reports_refused"]["reason"].as_string().rfind("malformed: malformed JSON", 0), 0u)
      << h["reports_refused"].serialize();
  const std::string m = Call("GET", "/metrics", read_).body;
  EXPECT_NE(m.find("driftwatch_reports_refused_total{reason=\"invalid\"} 4\n"), std::string::npos)
      << m;
  EXPECT_NE(m.find("driftwatch_reports_refused_total{reason=\"too_large\"} 1\n"),
            std::string::npos);
}

TEST_F(ApiTest, RefusalsReachTheHookAndOversizedBodiesCount) {
  std::string tok = Enroll("db-1", "db");
  std::vector<RefusedReport> seen;
  api_->SetOnRefused([&](const RefusedReport& r) { seen.push_back(r); });
  HttpRequest head;
  head.method = "POST";
  head.path = "/api/v1/reports";
  head.authorization = "Bearer " + tok;
  HttpResponse r = api_->BodyTooLarge(head, 1024);
  EXPECT_EQ(r.status, 413);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].host_id, "db-1");
  EXPECT_EQ(seen[0].group, "db");
  EXPECT_EQ(seen[0].reason, "too_large");
  // Another endpoint, or no agent token: a plain 413, nobody's refusal.
  head.path = "/api/v1/enroll";
  EXPECT_EQ(api_->BodyTooLarge(head, 1024).status, 413);
  head.path = "/api/v1/reports";
  head.authorization = "Bearer " + read_;
  EXPECT_EQ(api_->BodyTooLarge(head, 1024).status, 413);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(metrics_.refused_too_large.load(), 1);
  value h = value::parse(Call("GET", "/api/v1/hosts/db-1", read_).body);
  EXPECT_EQ(h["reports_refused"]["count"].as_integer(), 1);
}

TEST_F(ApiTest, TheCollectorsOwnFailuresAreNotBadRequests) {
  std::string tok = Enroll("db-1", "");
  const std::string report =
      Report(kId1, "db-1", {Event("/etc/a", DriftKind::kAdded, Severity::kLow)}, kT0);
  // Out of memory while handling a valid report: 503, and the agent keeps it.
  api_ = std::make_unique<Api>(
      *store_, config_, metrics_, [this] { return now_; }, [] { throw std::bad_alloc(); });
  HttpResponse r = Call("POST", "/api/v1/reports", tok, report);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(value::parse(r.body).at("error").as_string(), "unavailable");
  api_ = std::make_unique<Api>(
      *store_, config_, metrics_, [this] { return now_; },
      [] { throw std::runtime_error("disk on fire"); });
  r = Call("POST", "/api/v1/reports", tok,
           Report(kId2, "db-1", {Event("/etc/b", DriftKind::kAdded, Severity::kLow)}, kT0));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(r.body, R"({"detail":"internal error: disk on fire","error":"internal"})");
  EXPECT_EQ(metrics_.refused_invalid.load() + metrics_.refused_malformed.load(), 0);
}

TEST_F(ApiTest, ListsInAReportAreCappedWithTheirTrueCounts) {
  std::string tok = Enroll("db-1", "");
  value v =
      value::parse(Report(kId1, "db-1", {Event("/etc/a", DriftKind::kAdded, Severity::kLow)}, kT0));
  value warnings = value::array(5000);
  for (size_t i = 0; i < 5000; ++i) warnings[i] = value("w" + std::to_string(i));
  warnings[0] = value(std::string(100000, 'x'));
  v["warnings"] = warnings;
  value subtrees = value::object();
  for (int i = 0; i < 3000; ++i)
    subtrees["/srv/" + std::to_string(i)] = value(HashBytes("x").Hex());
  v["subtrees"] = subtrees;
  value containers = value::array(12000);
  for (size_t i = 0; i < 12000; ++i) {
    containers[i] = value::parse(R"({"name":"c)" + std::to_string(i) + R"(","runtime":"docker"})");
  }
  v["containers"] = containers;
  HttpResponse r = Call("POST", "/api/v1/reports", tok, v.serialize());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  value s = value::parse(r.body).at("summary");
  EXPECT_EQ(s["warnings"].serialize(), R"({"stored":100,"total":5000})");
  EXPECT_EQ(s["subtrees"].serialize(), R"({"stored":256,"total":3000})");
  EXPECT_EQ(s["containers"].serialize(), R"({"stored":10000,"total":12000})");
  value h = value::parse(Call("GET", "/api/v1/hosts/db-1", read_).body);
  EXPECT_EQ(h["subtrees"].size(), 256u);
  EXPECT_EQ(h["last_report_summary"]["subtrees"]["total"].as_integer(), 3000);
  // The fleet list carries no subtrees: its size grows with hosts only.
  const std::string list = Call("GET", "/api/v1/hosts", read_).body;
  EXPECT_LT(list.size(), 2000u) << list;
  EXPECT_EQ(value::parse(list)["hosts"][0]["subtrees_count"].as_integer(), 256);
}

TEST_F(ApiTest, MetricsInPrometheusFormat) {
  Enroll("m", "");
  HttpResponse r = Call("GET", "/metrics", read_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(r.body.find("# TYPE driftwatch_hosts gauge\ndriftwatch_hosts 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("driftwatch_http_requests_total 2\n"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/metrics", "").status, 401);
}

// A report with an inventory, as a daemon sends it.
std::string InventoryReport(const std::string& id, const std::string& host, int64_t finished,
                            int64_t revision, std::optional<std::vector<ContainerInfo>> containers,
                            std::optional<PackageInventory> packages,
                            const std::vector<DriftEvent>& events = {}) {
  CheckResult r;
  r.target = host;
  r.baseline = "default";
  r.baseline_revision = revision;
  r.baseline_root = HashBytes("rev" + std::to_string(revision));
  r.started_ns = finished - 1000;
  r.finished_ns = finished;
  r.interval_ns = int64_t{60} * 1000000000;
  r.containers = std::move(containers);
  r.packages = std::move(packages);
  r.events = events;
  value v = CheckResultToJson(r);
  v["format"] = value::number(1);
  v["report_id"] = value(id);
  v["host_id"] = value(host);
  v["agent_version"] = value("test");
  return v.serialize();
}

PackageInventory Packages(std::vector<PackageInfo> list, bool full) {
  PackageInventory p;
  p.digest = HashBytes(PackageInventoryText(list));
  p.count = static_cast<int64_t>(list.size());
  p.full = full;
  if (full) p.list = std::move(list);
  return p;
}

TEST_F(ApiTest, HostInventoriesAndFleetImages) {
  std::string w1 = Enroll("web-1", "web");
  std::string w2 = Enroll("web-2", "web");
  const std::vector<PackageInfo> pkgs = {{"dpkg", "bash", "5.2", "amd64"},
                                         {"dpkg", "curl", "7.88", "amd64"}};
  HttpResponse r =
      Call("POST", "/api/v1/reports", w1,
           InventoryReport(
               kId1, "web-1", kT0, 1,
               std::vector<ContainerInfo>{
                   testing::ContainerRow("web", "c1", "driftwatch", "nginx:1.25", "d1", true, 2),
                   testing::ContainerRow("cache", "c2", "docker", "redis:7", "d2", true, 0)},
               Packages(pkgs, true)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(value::parse(r.body).has_field("packages_needed"));
  r = Call("POST", "/api/v1/reports", w2,
           InventoryReport(kId2, "web-2", kT0, 1,
                           std::vector<ContainerInfo>{testing::ContainerRow(
                               "web", "c3", "driftwatch", "nginx:1.25", "d1", true, 0)},
                           std::nullopt));
  ASSERT_EQ(r.status, 200) << r.body;

  const std::string digest = HashBytes(PackageInventoryText(pkgs)).Hex();
  r = Call("GET", "/api/v1/hosts/web-1/packages", read_);
  EXPECT_EQ(r.body, R"({"count":2,"digest":")" + digest +
                        R"(","host":"web-1","matched":2,"packages":[)"
                        R"({"arch":"amd64","manager":"dpkg","name":"bash","version":"5.2"},)"
                        R"({"arch":"amd64","manager":"dpkg","name":"curl","version":"7.88"}],)"
                        R"("received":"2026-11-01T00:00:00.000000000Z"})");
  value v = value::parse(Call("GET", "/api/v1/hosts/web-1/packages?name=CU", read_).body);
  ASSERT_EQ(v["packages"].size(), 1u);
  EXPECT_EQ(v["packages"][0]["name"].as_string(), "curl");
  EXPECT_EQ(v["count"].as_integer(), 2);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-1/packages?limit=1", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/ghost/packages", read_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-1/packages", enroll_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-2/packages", read_).body,
            R"({"count":0,"digest":null,"host":"web-2","matched":0,"packages":[],)"
            R"("received":null})");

  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-1/containers", read_).body,
            R"({"containers":[{"drift_known":true,"drifted":true,"events":2,"id":"c1",)"
            R"("image":"nginx:1.25","image_digest":"d1","name":"web","runtime":"driftwatch"},)"
            R"({"drift_known":true,"drifted":false,"events":0,"id":"c2","image":"redis:7",)"
            R"("image_digest":"d2","name":"cache","runtime":"docker"}],"host":"web-1",)"
            R"("known":true,"received":"2026-11-01T00:00:00.000000000Z"})");
  EXPECT_EQ(Call("GET", "/api/v1/images", read_).body,
            R"({"distinct_digests":2,"distinct_images":2,"images":[)"
            R"({"containers":2,"digest":"d1","distinct_trees":0,"drifted":1,)"
            R"("host_ids":["web-1","web-2"],"hosts":2,"image":"nginx:1.25","image_ids":[],)"
            R"("image_trees":[],"runtimes":["driftwatch"]},)"
            R"({"containers":1,"digest":"d2","distinct_trees":0,"drifted":0,)"
            R"("host_ids":["web-1"],"hosts":1,"image":"redis:7","image_ids":[],)"
            R"("image_trees":[],"runtimes":["docker"]}],)"
            R"("runtimes":[{"containers":1,"digests":1,"drifted":0,"images":1,)"
            R"("runtime":"docker"},{"containers":2,"digests":1,"drifted":1,"images":1,)"
            R"("runtime":"driftwatch"}],"sprawled":0})");

  // Digest only: the same digest keeps the list; another one asks for it.
  const char* kId3 = "33333333-3333-4333-8333-333333333333";
  const char* kId4 = "44444444-4444-4444-8444-444444444444";
  now_ = kT0 + int64_t{60} * 1000000000;
  r = Call(
      "POST", "/api/v1/reports", w1,
      InventoryReport(kId3, "web-1", now_, 2, std::vector<ContainerInfo>{}, Packages(pkgs, false)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(value::parse(r.body).has_field("packages_needed"));
  EXPECT_EQ(
      value::parse(Call("GET", "/api/v1/hosts/web-1/packages", read_).body)["matched"].as_integer(),
      2);
  r = Call("POST", "/api/v1/reports", w1,
           InventoryReport(kId4, "web-1", now_ + 1, 2, std::nullopt,
                           Packages({{"dpkg", "bash", "5.3", "amd64"}}, false)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(value::parse(r.body)["packages_needed"].as_bool());
  v = value::parse(Call("GET", "/api/v1/hosts/web-1/packages", read_).body);
  EXPECT_EQ(v["digest"].as_string(), digest);  // the stored list stays consistent
  // An empty container list replaces the old one; the images follow.
  EXPECT_EQ(
      value::parse(Call("GET", "/api/v1/hosts/web-1/containers", read_).body)["containers"].size(),
      0u);
  v = value::parse(Call("GET", "/api/v1/images", read_).body);
  ASSERT_EQ(v["images"].size(), 1u);
  EXPECT_EQ(v["images"][0]["host_ids"].serialize(), R"(["web-2"])");

  // Baseline revisions: each one reported, newest first.
  v = value::parse(Call("GET", "/api/v1/hosts/web-1/baselines", read_).body);
  EXPECT_EQ(v["current"].serialize(), R"({"name":"default","revision":2})");
  ASSERT_EQ(v["baselines"].size(), 2u);
  EXPECT_EQ(v["baselines"][0]["revision"].as_integer(), 2);
  EXPECT_TRUE(v["baselines"][0]["current"].as_bool());
  EXPECT_EQ(v["baselines"][0]["root"].as_string(), HashBytes("rev2").Hex());
  EXPECT_EQ(v["baselines"][0]["first_seen"].as_string(), "2026-11-01T00:01:00.000000000Z");
  EXPECT_EQ(v["baselines"][1]["revision"].as_integer(), 1);
  EXPECT_FALSE(v["baselines"][1]["current"].as_bool());
  EXPECT_EQ(v["baselines"][1]["since"].as_string(), "2026-10-31T23:59:59.999999000Z");
  EXPECT_EQ(Call("GET", "/api/v1/hosts/ghost/baselines", read_).status, 404);

  // Silent after three of the host's own intervals (60 s here).
  auto silent = [&](const char* host) {
    return value::parse(Call("GET", std::string("/api/v1/hosts/") + host, read_).body)["silent"]
        .as_bool();
  };
  now_ = kT0 + int64_t{60 + 180} * 1000000000;
  EXPECT_FALSE(silent("web-1"));
  EXPECT_EQ(
      value::parse(Call("GET", "/api/v1/hosts/web-1", read_).body)["interval_seconds"].as_integer(),
      60);
  now_ += 1000000000;
  EXPECT_TRUE(silent("web-1"));
  EXPECT_TRUE(silent("web-2"));  // reported at kT0, interval 60 s
  v = value::parse(Call("GET", "/api/v1/fleet/summary", read_).body);
  EXPECT_EQ(v["silent_hosts"].as_integer(), 2);
}

}  // namespace
}  // namespace driftwatch::collector
