#include "core/drift_json.h"
#include "tests/testing/container_row.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

using web::json::value;

Entry FileEntry(uint32_t mode, std::string_view content) {
  Entry e;
  e.name = "passwd";
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrHash;
  e.mode = mode;
  e.uid = 0;
  e.gid = 42;
  e.size = content.size();
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  e.mtime_ns = 123;  // outside the mask: never serialized
  return e;
}

CheckResult SampleResult() {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  r.baseline_revision = 3;
  r.baseline_root = HashBytes("a");
  r.root = HashBytes("b");
  r.started_ns = 1793491200123456789;
  r.finished_ns = 1793491201000000001;
  r.subtrees = {{"/etc", HashBytes("etc")}, {"/usr/bin", HashBytes("bin")}};
  DriftEvent m;
  m.path = "/etc/passwd";
  m.kind = DriftKind::kModified;
  m.changed = kAttrPerm | kAttrHash | kAttrSize;
  m.old_entry = FileEntry(0644, "root:x:0:0");
  m.new_entry = FileEntry(0666, "root:x:0:0\nevil");
  m.severity = Severity::kHigh;
  m.rule = "/etc/** (host.yaml:3)";
  DriftEvent a;
  a.path = std::string("/etc/new\n\xff");
  a.kind = DriftKind::kAdded;
  Entry link;
  link.name = a.path.substr(5);
  link.type = EntryType::kSymlink;
  link.mask = kAttrType | kAttrLink;
  link.link_target = "/tmp/\x01x";
  a.new_entry = link;
  a.severity = Severity::kCritical;
  a.rule = "/etc/**";
  DriftEvent p;
  p.path = "/usr/bin/curl";
  p.kind = DriftKind::kPackageFileModified;
  p.severity = Severity::kLow;
  p.package = "curl";
  p.from_version = "7.88.1-10";
  p.to_version = "7.88.1-10+deb12u5";
  p.cause = "package-upgrade";
  r.events = {m, a, p};
  r.warnings = {"/etc/shadow: permission denied"};
  r.stats = {10, 2, 1, 300, 4, 55};
  return r;
}

TEST(DriftJsonTest, EncodesTheDocumentedShape) {
  CheckResult r = SampleResult();
  r.events.resize(1);
  r.subtrees.resize(1);
  value v = CheckResultToJson(r);
  const std::string expected =
      "{\"baseline\":\"default\",\"baseline_revision\":3,\"baseline_root\":\"" +
      HashBytes("a").Hex() + "\",\"events\":[{\"attributes\":[\"perm\",\"size\",\"hash\"]," +
      "\"kind\":\"modified\",\"new\":{\"gid\":42,\"hash\":\"" +
      Hasher::Of(HashAlgo::kXxh128, "root:x:0:0\nevil").Hex() +
      "\",\"perm\":\"0666\",\"size\":15,\"type\":\"file\",\"uid\":0},\"old\":{\"gid\":42,"
      "\"hash\":\"" +
      Hasher::Of(HashAlgo::kXxh128, "root:x:0:0").Hex() +
      "\",\"perm\":\"0644\",\"size\":10,\"type\":\"file\",\"uid\":0},\"path\":\"/etc/passwd\","
      "\"rule\":\"/etc/** (host.yaml:3)\",\"severity\":\"high\"}],"
      "\"finished\":\"2026-11-01T00:00:01.000000001Z\",\"root\":\"" +
      HashBytes("b").Hex() +
      "\",\"started\":\"2026-11-01T00:00:00.123456789Z\",\"stats\":{\"bytes_hashed\":300,"
      "\"dirs\":2,\"duration_ns\":55,\"files\":10,\"files_hashed\":4,\"others\":1},"
      "\"subtrees\":{\"/etc\":\"" +
      HashBytes("etc").Hex() +
      "\"},\"summary\":{\"added\":0,\"modified\":1,\"packages\":0,\"removed\":0},"
      "\"target\":\"web-1\",\"warnings\":[\"/etc/shadow: permission denied\"]}";
  // web::json keeps object keys in insertion order; compare canonically.
  EXPECT_EQ(value::parse(expected).serialize(), value::parse(v.serialize()).serialize());
  EXPECT_TRUE(v == value::parse(expected));
}

TEST(DriftJsonTest, RoundTripsEveryField) {
  CheckResult r = SampleResult();
  value v = CheckResultToJson(r);
  auto back = CheckResultFromJson(value::parse(v.serialize()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->target, r.target);
  EXPECT_EQ(back->baseline, r.baseline);
  EXPECT_EQ(back->baseline_revision, r.baseline_revision);
  EXPECT_EQ(back->baseline_root, r.baseline_root);
  EXPECT_EQ(back->root, r.root);
  EXPECT_EQ(back->started_ns, r.started_ns);
  EXPECT_EQ(back->finished_ns, r.finished_ns);
  EXPECT_EQ(back->subtrees, r.subtrees);
  EXPECT_EQ(back->warnings, r.warnings);
  EXPECT_EQ(back->stats.files, 10u);
  EXPECT_EQ(back->stats.bytes_hashed, 300u);
  EXPECT_EQ(back->stats.files_hashed, 4u);
  EXPECT_EQ(back->stats.duration_ns, 55);
  ASSERT_EQ(back->events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const DriftEvent& want = r.events[i];
    const DriftEvent& got = back->events[i];
    EXPECT_EQ(got.path, want.path);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.changed, want.changed);
    EXPECT_EQ(got.severity, want.severity);
    EXPECT_EQ(got.rule, want.rule);
    EXPECT_EQ(got.package, want.package);
    EXPECT_EQ(got.from_version, want.from_version);
    EXPECT_EQ(got.to_version, want.to_version);
    EXPECT_EQ(got.cause, want.cause);
    ASSERT_EQ(got.old_entry.has_value(), want.old_entry.has_value());
    ASSERT_EQ(got.new_entry.has_value(), want.new_entry.has_value());
    auto masked = [](Entry e) {
      e.ApplyMask();
      return e;
    };
    if (want.old_entry) {
      EXPECT_EQ(*got.old_entry, masked(*want.old_entry));
    }
    if (want.new_entry) {
      EXPECT_EQ(*got.new_entry, masked(*want.new_entry));
    }
  }
  // Escaped paths on the wire.
  EXPECT_EQ(v["events"][1]["path"].as_string(), "/etc/new\\n\\xff");
  EXPECT_EQ(v["events"][1]["new"]["link"].as_string(), "/tmp/\\x01x");
}

TEST(DriftJsonTest, WrongTypesNameTheField) {
  value base = CheckResultToJson(SampleResult());
  auto with = [&](auto fn) {
    value v = base;
    fn(v);
    return CheckResultFromJson(v).status().message();
  };
  EXPECT_EQ(with([](value& v) { v["events"][2]["kind"] = value::string("moved"); }),
            "events[2].kind: expected one of added, modified, removed, package-installed, "
            "package-removed, package-changed, package-file-modified");
  EXPECT_EQ(with([](value& v) { v["events"][0]["severity"] = value::number(3); }),
            "events[0].severity: expected a string");
  EXPECT_EQ(with([](value& v) { v["baseline_revision"] = value::string("3"); }),
            "baseline_revision: expected an integer");
  EXPECT_EQ(with([](value& v) { v["events"][0]["old"]["perm"] = value::string("0999"); }),
            "events[0].old.perm: expected an octal string such as \"0644\"");
  EXPECT_EQ(with([](value& v) { v["events"][0]["new"]["uid"] = value::number(-1); }),
            "events[0].new.uid: expected a non-negative integer");
  EXPECT_EQ(with([](value& v) { v["events"][1]["path"] = value::string("relative"); }),
            "events[1].path: expected an absolute path, pkg:MANAGER/NAME or "
            "container:NAME:/PATH");
  EXPECT_EQ(with([](value& v) { v["events"][1]["path"] = value::string("container::/etc"); }),
            "events[1].path: expected an absolute path, pkg:MANAGER/NAME or "
            "container:NAME:/PATH");
  // Package and container drift as the agent reports it.
  for (const char* p : {"pkg:dpkg/libc6:amd64", "container:web:/etc/x"}) {
    value v = base;
    v["events"][1]["path"] = value::string(p);
    auto r = CheckResultFromJson(v);
    ASSERT_TRUE(r.ok()) << p << ": " << r.status().message();
    EXPECT_EQ(r->events[1].path, p);
  }
  EXPECT_EQ(with([](value& v) { v["events"][0]["attributes"][1] = value::string("colour"); }),
            "events[0].attributes[1]: expected an attribute name such as perm or hash");
  EXPECT_EQ(with([](value& v) { v["root"] = value::string("xyz"); }),
            "root: expected 32 hex digits");
  EXPECT_EQ(with([](value& v) { v["events"] = value::object(); }), "events: expected an array");
  EXPECT_EQ(with([](value& v) { v.erase("target"); }), "target: missing");
  EXPECT_EQ(with([](value& v) { v["started"] = value::string("yesterday"); }),
            "started: expected an RFC 3339 time such as 2026-11-01T00:00:00Z, got 'yesterday'");
  EXPECT_EQ(CheckResultFromJson(value::array()).status().message(),
            "report: expected a JSON object");
}

Actor SampleActor() {
  Actor a;
  a.pid = 4242;
  a.exe = "/usr/bin/vim\n";
  a.cmdline = "vim /etc/passwd \xff";
  a.comm = "vim";
  a.uid = 1000;
  a.euid = 0;
  a.loginuid = 1000;
  a.login = "alice";
  a.session = 3;
  a.ppid = 4000;
  a.parent_exe = "/usr/bin/bash";
  a.cgroup = "/user.slice/user-1000.slice/session-3.scope";
  a.container = "docker:web-1";
  return a;
}

// A realtime report: its events carry when, who and whether the change was
// undone; the report says it is realtime and how the last walk went.
TEST(DriftJsonTest, RealtimeFieldsRoundTrip) {
  CheckResult r = SampleResult();
  r.source = "realtime";
  r.walk = {true, 17, ""};
  r.events[0].time_ns = 1793491200123456789;
  r.events[0].actor = SampleActor();
  r.events[0].transient = true;
  Actor undo;
  undo.pid = 77;
  undo.exited = true;
  r.events[0].reverted_by = undo;
  value v = CheckResultToJson(r);
  EXPECT_EQ(v["source"].as_string(), "realtime");
  EXPECT_EQ(v["walk"].serialize(), "{\"dirty_paths\":17,\"full_reason\":\"\",\"journal\":true}");
  value e = v["events"][0];
  EXPECT_EQ(e["time"].as_string(), "2026-11-01T00:00:00.123456789Z");
  EXPECT_EQ(e["transient"].as_bool(), true);
  EXPECT_EQ(e["actor"]["exe"].as_string(), "/usr/bin/vim\\n");
  EXPECT_EQ(e["actor"]["cmdline"].as_string(), "vim /etc/passwd \\xff");
  // Unknown members are left out: no -1 ids, no empty strings.
  EXPECT_EQ(e["reverted_by"].serialize(), "{\"exited\":true,\"pid\":77}");
  auto back = CheckResultFromJson(value::parse(v.serialize()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->source, "realtime");
  EXPECT_EQ(back->walk, r.walk);
  const DriftEvent& got = back->events[0];
  EXPECT_EQ(got.time_ns, r.events[0].time_ns);
  ASSERT_TRUE(got.actor.has_value());
  EXPECT_EQ(*got.actor, SampleActor());
  EXPECT_TRUE(got.transient);
  ASSERT_TRUE(got.reverted_by.has_value());
  EXPECT_EQ(*got.reverted_by, undo);
  // Events of a check have none of it, and neither has the report.
  EXPECT_FALSE(back->events[1].actor.has_value());
  EXPECT_FALSE(back->events[1].transient);
  EXPECT_EQ(back->events[1].time_ns, 0);
  value check = CheckResultToJson(SampleResult());
  EXPECT_FALSE(check.has_field("source"));
  EXPECT_FALSE(check.has_field("walk"));
  EXPECT_FALSE(check["events"][0].has_field("actor"));
  EXPECT_FALSE(check["events"][0].has_field("time"));
  EXPECT_FALSE(check["events"][0].has_field("transient"));
  // A full walk with its reason.
  r.walk = {false, 0, "queue overflow"};
  back = CheckResultFromJson(CheckResultToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->walk, r.walk);
}

TEST(DriftJsonTest, ContentDiffFieldsRoundTripAndAreBounded) {
  CheckResult r = SampleResult();
  r.events[0].diff = "--- /etc/x\n+++ /etc/x\n@@ -1 +1 @@\n-a\xff\n+b\n";
  r.events[1].content_note = "redacted";
  value v = CheckResultToJson(r);
  // Bytes that are not UTF-8 cannot go into JSON: U+FFFD stands in.
  EXPECT_EQ(v["events"][0]["diff"].as_string(),
            "--- /etc/x\n+++ /etc/x\n@@ -1 +1 @@\n-a\xef\xbf\xbd\n+b\n");
  EXPECT_FALSE(v["events"][0].has_field("content"));
  EXPECT_EQ(v["events"][1]["content"].as_string(), "redacted");
  EXPECT_FALSE(v["events"][1].has_field("diff"));
  auto back = CheckResultFromJson(value::parse(v.serialize()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->events[0].diff, ReplaceInvalidUtf8(r.events[0].diff));
  EXPECT_EQ(back->events[1].content_note, "redacted");

  value bad = v;
  bad["events"][1]["content"] = value::string("secret");
  auto got = CheckResultFromJson(bad);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("events[1].content"), std::string::npos)
      << got.status().message();
  bad = v;
  bad["events"][0]["diff"] = value::string(std::string(kMaxEventDiffBytes + 100, 'x'));
  got = CheckResultFromJson(bad);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("events[0].diff"), std::string::npos)
      << got.status().message();
}

TEST(DriftJsonTest, RealtimeFieldErrorsNameTheField) {
  CheckResult r = SampleResult();
  r.events[0].actor = SampleActor();
  value base = CheckResultToJson(r);
  auto with = [&](auto fn) {
    value v = base;
    fn(v);
    return CheckResultFromJson(v).status().message();
  };
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"] = value::string("vim"); }),
            "events[0].actor: expected an object");
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"].erase("pid"); }),
            "events[0].actor.pid: missing");
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"]["pid"] = value::number(-5); }),
            "events[0].actor.pid: expected a process id (0 to 2^32)");
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"]["uid"] = value::number(-2); }),
            "events[0].actor.uid: expected -1 (unknown) or an id from 0 to 4294967295");
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"]["euid"] = value::string("0"); }),
            "events[0].actor.euid: expected an integer");
  EXPECT_EQ(with([](value& v) { v["events"][0]["actor"]["exited"] = value::number(1); }),
            "events[0].actor.exited: expected a boolean");
  EXPECT_EQ(with([](value& v) {
              v["events"][0]["actor"]["exe"] = value::string("/" + std::string(4096, 'x'));
            }),
            "events[0].actor.exe: 4097 bytes; expected at most 4096");
  EXPECT_EQ(with([](value& v) {
              v["events"][0]["actor"]["cmdline"] = value::string(std::string(1025, 'x'));
            }),
            "events[0].actor.cmdline: 1025 bytes; expected at most 1024");
  // The limit counts raw bytes: "\\xff" is one byte on the host.
  std::string escaped;
  for (int i = 0; i < 1024; ++i) escaped += "\\xff";
  value v = base;
  v["events"][0]["actor"]["cmdline"] = value::string(escaped);
  auto ok = CheckResultFromJson(v);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->events[0].actor->cmdline, std::string(1024, '\xff'));
  EXPECT_EQ(with([](value& v) { v["events"][0]["reverted_by"] = value::object(); }),
            "events[0].reverted_by.pid: missing");
  EXPECT_EQ(with([](value& v) { v["events"][0]["time"] = value::string("soon"); }),
            "events[0].time: expected an RFC 3339 time such as 2026-11-01T00:00:00Z, got 'soon'");
  EXPECT_EQ(with([](value& v) { v["events"][0]["transient"] = value::string("yes"); }),
            "events[0].transient: expected a boolean");
  EXPECT_EQ(with([](value& v) { v["source"] = value::string("inotify"); }),
            "source: expected \"realtime\" or absent (a check)");
  EXPECT_EQ(with([](value& v) { v["walk"] = value::array(); }), "walk: expected an object");
  EXPECT_EQ(with([](value& v) { v["walk"]["journal"] = value::string("true"); }),
            "walk.journal: expected a boolean");
  EXPECT_EQ(with([](value& v) { v["walk"]["dirty_paths"] = value::number(-1); }),
            "walk.dirty_paths: expected a non-negative integer");
}

TEST(DriftJsonTest, Rfc3339) {
  struct Case {
    const char* text;
    int64_t ns;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2026-11-01T00:00:00Z", 1793491200LL * 1000000000},
      {"2026-11-01T00:00:00.5Z", 1793491200LL * 1000000000 + 500000000},
      {"2026-11-01T02:00:00+02:00", 1793491200LL * 1000000000},
      {"2026-10-31T23:00:00.000000001-01:00", 1793491200LL * 1000000000 + 1},
      {"1969-12-31T23:59:59.999999999Z", -1},
  };
  for (const Case& c : cases) {
    auto got = ParseRfc3339(c.text);
    ASSERT_TRUE(got.ok()) << c.text;
    EXPECT_EQ(*got, c.ns) << c.text;
  }
  EXPECT_EQ(FormatRfc3339Nanos(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339Nanos(1793491200LL * 1000000000), "2026-11-01T00:00:00.000000000Z");
  EXPECT_TRUE(TimeOrNull(0).is_null());
  EXPECT_EQ(TimeOrNull(1793491200LL * 1000000000).as_string(), "2026-11-01T00:00:00.000000000Z");
  for (const char* bad : {"", "2026-11-01", "2026-11-01T00:00:00", "2026-13-01T00:00:00Z",
                          "2026-11-01T00:00:00.Z", "2026-11-01T00:00:00.1234567890Z",
                          "2026-11-01T00:00:00Zjunk", "2026-11-01T00:00:00+2:00"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(DriftJsonTest, DepthCheckIgnoresBracketsInStrings) {
  EXPECT_TRUE(JsonDepthWithin(R"({"a":[{"b":"[[[[[[\"]]]"}]})", 3));
  EXPECT_FALSE(JsonDepthWithin(R"({"a":[{"b":[]}]})", 3));
  EXPECT_TRUE(JsonDepthWithin(std::string(100, '"'), 1));
  // Values: commas and containers outside strings, plus the top value.
  EXPECT_TRUE(JsonDepthWithin(R"({"a":[1,2,3]})", 3, 5));
  EXPECT_FALSE(JsonDepthWithin(R"({"a":[1,2,3]})", 3, 4));
  EXPECT_TRUE(JsonDepthWithin(R"({"a":",,,,,,[[{"})", 3, 2));
  std::string tiny = "[0";
  for (int i = 0; i < 100000; ++i) tiny += ",0";
  tiny += "]";
  EXPECT_FALSE(JsonDepthWithin(tiny, 16, tiny.size() / 8));
  EXPECT_FALSE(JsonDepthWithin(std::string(100000, '['), 64));
}

TEST(DriftJsonTest, ContainerIdentityRoundTripsAndIsBounded) {
  ContainerInfo c = testing::ContainerRow("web-1", std::string(64, 'a'), "docker", "busybox:latest",
                                          "sha256:" + std::string(64, 'b'), true, 3);
  c.image_id = "sha256:" + std::string(64, 'c');
  c.image_tree = "00112233445566778899aabbccddeeff";
  c.labels = {{"io.kubernetes.pod.name", "web-7d9"}, {"io.kubernetes.pod.namespace", "shop"}};
  c.started_ns = int64_t{1764950400} * 1000000000 + 123;
  c.pid = 4242;
  c.excluded = {"/data", "/var/log/odd\nname"};
  c.note = "docker: hostconfig.json unreadable";
  value v = ContainerInfoToJson(c);
  EXPECT_EQ(v.at("labels").at("io.kubernetes.pod.namespace").as_string(), "shop");
  auto back = ContainerInfoFromJson(value::parse(v.serialize()), "containers[0]");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, c);

  // An older report's container (no identity fields) reads as before.
  ContainerInfo bare = testing::ContainerRow("docker:4fe1", "4fe1aa", "docker", "", "", false, 0);
  value bv = ContainerInfoToJson(bare);
  EXPECT_FALSE(bv.has_field("labels"));
  EXPECT_FALSE(bv.has_field("started"));
  auto bare_back = ContainerInfoFromJson(bv, "c");
  ASSERT_TRUE(bare_back.ok());
  EXPECT_EQ(*bare_back, bare);

  auto refused = [&](value x, const std::string& what) {
    auto r = ContainerInfoFromJson(x, "containers[0]");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.status().message().find("containers[0]"), std::string::npos) << what;
  };
  value many = v;
  for (size_t i = 0; i <= kMaxContainerLabels; ++i) {
    many["labels"]["k" + std::to_string(i)] = value::string("v");
  }
  refused(many, "too many labels");
  value long_label = v;
  long_label["labels"]["big"] = value::string(std::string(kMaxContainerLabelBytes + 1, 'x'));
  refused(long_label, "label too long");
  value not_string = v;
  not_string["labels"]["n"] = value::number(1);
  refused(not_string, "label not a string");
  value long_note = v;
  long_note["note"] = value::string(std::string(kMaxContainerNoteBytes + 1, 'x'));
  refused(long_note, "note too long");
  value bad_time = v;
  bad_time["started"] = value::string("yesterday");
  refused(bad_time, "started not RFC 3339");
  value bad_ex = v;
  bad_ex["excluded"] = value::array({value::number(1)});
  refused(bad_ex, "excluded not strings");
}

TEST(DriftJsonTest, InventoryRoundTripsAndIsOptional) {
  CheckResult r = SampleResult();
  r.interval_ns = int64_t{300} * 1000000000;
  r.containers = std::vector<ContainerInfo>{
      testing::ContainerRow("web", "0123abcd", "driftwatch", "nginx:1.25", "9f0e", true, 2),
      testing::ContainerRow("docker:4fe1", "4fe1aa", "docker", "", "", false, 0)};
  PackageInventory inv;
  inv.list = {{"dpkg", "bash", "5.2.15-2", "amd64"}, {"dpkg", "curl", "7.88.1-10", "amd64"}};
  inv.digest = HashBytes(PackageInventoryText(inv.list));
  inv.count = 2;
  inv.full = true;
  r.packages = inv;
  value v = CheckResultToJson(r);
  EXPECT_EQ(v.at("interval_seconds").as_integer(), 300);
  EXPECT_EQ(v.at("containers").size(), 2u);
  EXPECT_EQ(v.at("containers")[0].at("image").as_string(), "nginx:1.25");
  EXPECT_EQ(v.at("packages").at("list").size(), 2u);
  auto back = CheckResultFromJson(value::parse(v.serialize()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->interval_ns, r.interval_ns);
  ASSERT_TRUE(back->containers.has_value());
  ASSERT_EQ(back->containers->size(), 2u);
  const ContainerInfo& c = (*back->containers)[0];
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(c.id, "0123abcd");
  EXPECT_EQ(c.runtime, "driftwatch");
  EXPECT_EQ(c.image_digest, "9f0e");
  EXPECT_TRUE(c.drift_known);
  EXPECT_EQ(c.events, 2);
  EXPECT_FALSE((*back->containers)[1].drift_known);
  ASSERT_TRUE(back->packages.has_value());
  EXPECT_TRUE(back->packages->full);
  EXPECT_EQ(back->packages->list, inv.list);
  EXPECT_EQ(back->packages->digest, inv.digest);
  EXPECT_EQ(back->packages->count, 2);

  // Digest only: no list, the count is kept.
  r.packages->full = false;
  v = CheckResultToJson(r);
  EXPECT_FALSE(v.at("packages").has_field("list"));
  back = CheckResultFromJson(v);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->packages->full);
  EXPECT_TRUE(back->packages->list.empty());
  EXPECT_EQ(back->packages->count, 2);
  EXPECT_EQ(back->packages->digest, inv.digest);

  // An older report has none of it.
  back = CheckResultFromJson(CheckResultToJson(SampleResult()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->interval_ns, 0);
  EXPECT_FALSE(back->containers.has_value());
  EXPECT_FALSE(back->packages.has_value());
}

TEST(DriftJsonTest, InventoryErrorsNameTheField) {
  auto with = [](const char* field, value x) {
    value v = CheckResultToJson(SampleResult());
    v[field] = x;
    auto r = CheckResultFromJson(v);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(with("interval_seconds", value::number(-5)),
            "interval_seconds: expected a non-negative integer");
  EXPECT_EQ(with("containers", value::object()), "containers: expected an array");
  value bad_container = value::array();
  bad_container[0] = value::object();
  EXPECT_EQ(with("containers", bad_container), "containers[0].name: missing");
  value pk = value::object();
  pk["digest"] = value::string("xyz");
  EXPECT_EQ(with("packages", pk), "packages.digest: expected 32 hex digits");
  pk["digest"] = value::string(HashBytes("other").Hex());
  pk["list"] = value::array();
  pk["list"][0] = value::object();
  pk["list"][0]["manager"] = value::string("dpkg");
  EXPECT_EQ(with("packages", pk), "packages.list[0].name: missing");
  pk["list"][0]["name"] = value::string("bash");
  EXPECT_EQ(with("packages", pk), "packages.digest: does not match packages.list");
}

// Bidirectional controls would reorder a displayed name ("/etc/cron.d/
// <RLO>hs.exe" shows as "exe.sh"): EscapePath shows their bytes as \xHH,
// and UnescapePath restores them.
TEST(EscapePathTest, BidiControlsAreEscaped) {
  const std::pair<std::string, std::string> controls[] = {
      {"\xd8\x9c", "\\xd8\\x9c"},           // U+061C ARABIC LETTER MARK
      {"\xe2\x80\x8e", "\\xe2\\x80\\x8e"},  // U+200E LEFT-TO-RIGHT MARK
      {"\xe2\x80\x8f", "\\xe2\\x80\\x8f"},  // U+200F RIGHT-TO-LEFT MARK
      {"\xe2\x80\xaa", "\\xe2\\x80\\xaa"},  // U+202A LEFT-TO-RIGHT EMBEDDING
      {"\xe2\x80\xab", "\\xe2\\x80\\xab"},  // U+202B
      {"\xe2\x80\xac", "\\xe2\\x80\\xac"},  // U+202C POP DIRECTIONAL FORMATTING
      {"\xe2\x80\xad", "\\xe2\\x80\\xad"},  // U+202D
      {"\xe2\x80\xae", "\\xe2\\x80\\xae"},  // U+202E RIGHT-TO-LEFT OVERRIDE
      {"\xe2\x81\xa6", "\\xe2\\x81\\xa6"},  // U+2066 LEFT-TO-RIGHT ISOLATE
      {"\xe2\x81\xa7", "\\xe2\\x81\\xa7"},  // U+2067
      {"\xe2\x81\xa8", "\\xe2\\x81\\xa8"},  // U+2068
      {"\xe2\x81\xa9", "\\xe2\\x81\\xa9"},  // U+2069 POP DIRECTIONAL ISOLATE
  };
  for (const auto& [raw, escaped] : controls) {
    const std::string path = "/tmp/a" + raw + "txt.exe";
    EXPECT_EQ(EscapePath(path), "/tmp/a" + escaped + "txt.exe");
    auto back = UnescapePath(EscapePath(path));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, path);
  }
  // Neighbours of the controls, and other text, pass through unchanged.
  for (const std::string& plain :
       {std::string("\xd8\x9b"), std::string("\xd8\x9d"), std::string("\xe2\x80\x8d"),
        std::string("\xe2\x80\x90"), std::string("\xe2\x80\xa9"), std::string("\xe2\x80\xaf"),
        std::string("\xe2\x81\xa5"), std::string("\xe2\x81\xaa"), std::string("\xe2\x82\xac"),
        std::string("caf\xc3\xa9"), std::string("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d")}) {
    EXPECT_EQ(EscapePath("/x/" + plain), "/x/" + plain) << EscapePath(plain);
  }
  // The wire form carries the escaped path.
  DriftEvent e;
  e.path = "/etc/cron.d/\xe2\x80\xaehs.exe";
  e.kind = DriftKind::kAdded;
  e.severity = Severity::kHigh;
  e.rule = "/etc/**";
  EXPECT_EQ(DriftEventToJson(e)["path"].as_string(), "/etc/cron.d/\\xe2\\x80\\xaehs.exe");
}

TEST(Utf8Test, ValidityIsTheTestEscapePathApplies) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("/etc/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"));
  for (const std::string& bad : {std::string("\xff"), std::string("\xc3"),  // invalid, truncated
                                 std::string("\xc0\xaf"),                   // overlong "/"
                                 std::string("\xed\xa0\x80"),               // surrogate
                                 std::string("\xf4\x90\x80\x80"),           // past U+10FFFF
                                 std::string("ok\x80")}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << EscapePath(bad);
    EXPECT_NE(EscapePath(bad).find("\\x"), std::string::npos);
  }
}

}  // namespace
}  // namespace driftwatch
