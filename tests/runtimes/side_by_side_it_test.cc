// One host running a Docker, a containerd, a Podman and a driftwatch
// container side by side: `driftwatch containers` lists each once, under
// its runtime and name, and a `driftwatch check --report` to a real
// collector makes its /api/v1/images count the image of every runtime.
#include <unistd.h>

#include <iostream>
#include <map>
#include <set>

#include "tests/collector/harness.h"
#include "tests/runtimes/rows.h"
#include "tests/runtimes/runtimes_env.h"

namespace driftwatch::rt {
namespace {

using web::json::value;

struct Running {
  std::string runtime;
  std::string id;  // "" for driftwatch's own: found by name
  std::string name;
  std::string image;
};

class SideBySideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env_.skip().empty()) GTEST_SKIP() << env_.skip();
  }

  // One container of every runtime that runs here, named PREFIX-RUNTIME;
  // the runtimes that cannot run, with why, in skipped_.
  std::vector<Running> StartOneOfEach(const std::string& prefix) {
    std::vector<Running> out;
    std::string why, err;
    ContainerSpec spec;
    spec.labels = {{"app", prefix}};
    if (Docker* d = env_.docker(&why)) {
      spec.name = prefix + "-docker";
      spec.bind_src = env_.NewDir(spec.name);
      const std::string id = d->Run(spec, kImageRef, &err);
      EXPECT_FALSE(id.empty()) << err;
      out.push_back({"docker", id, spec.name, kImageRef});
    } else {
      skipped_.push_back("docker: " + why);
    }
    if (Containerd* c = env_.containerd(&why)) {
      spec.name = prefix + "-containerd";
      spec.bind_src = env_.NewDir(spec.name);
      const std::string ref = std::string("docker.io/") + kImageRef;
      EXPECT_FALSE(c->Run(spec, ref, &err).empty()) << err;
      out.push_back({"containerd", spec.name, spec.name, ref});
    } else {
      skipped_.push_back("containerd: " + why);
    }
    if (Podman* p = env_.podman(&why)) {
      spec.name = prefix + "-podman";
      spec.bind_src = env_.NewDir(spec.name);
      const std::string id = p->Run(spec, kImageRef, &err);
      EXPECT_FALSE(id.empty()) << err;
      out.push_back({"podman", id, spec.name, std::string("localhost/") + kImageRef});
    } else {
      skipped_.push_back("podman: " + why);
    }
    // driftwatch's own: its image store and containers in the sandbox.
    const std::string state = env_.dw_state();
    static bool imported = false;
    if (!imported) {
      ExecResult r =
          Dw({"container", "image", "import", "bb", env_.image_dir(), "--state-dir", state});
      EXPECT_EQ(r.code, 0) << Describe(r);
      imported = r.code == 0;
    }
    ExecResult r = Dw({"container", "run", "--detach", "--name", prefix + "-dw", "--state-dir",
                       state, "bb", "--", "/bin/sleep", "3600"});
    EXPECT_EQ(r.code, 0) << Describe(r);
    env_.AddDwContainer(prefix + "-dw");
    out.push_back({"driftwatch", "", prefix + "-dw", "bb"});
    return out;
  }

  // Runs `sh -c script` inside a container started by StartOneOfEach.
  ExecResult Touch(const Running& c, const std::string& script) {
    std::string why;
    if (c.runtime == "docker") return env_.docker(&why)->Sh(c.name, script);
    if (c.runtime == "podman") return env_.podman(&why)->Sh(c.name, script);
    if (c.runtime == "containerd") {
      ContainerSpec spec;
      spec.name = c.name;
      return env_.containerd(&why)->Sh(spec, script);
    }
    return Dw({"container", "exec", c.name, "--state-dir", env_.dw_state(), "--", "/bin/sh", "-c",
               script});
  }

  // Every root flag of the contract, pointing at the private runtimes.
  std::vector<std::string> RootFlags() {
    std::vector<std::string> f;
    std::string why;
    if (Docker* d = env_.docker(&why)) f.insert(f.end(), {"--docker-root", d->data_root()});
    if (Containerd* c = env_.containerd(&why)) {
      f.insert(f.end(), {"--containerd-root", c->root(), "--containerd-state", c->state()});
    }
    if (Podman* p = env_.podman(&why)) f.insert(f.end(), {"--storage-root", p->storage_root()});
    return f;
  }

  void PrintSkipped() {
    for (const std::string& s : skipped_) std::cout << "runtime skipped: " << s << "\n";
  }

  RuntimesEnv& env_ = RuntimesEnv::Get();
  std::vector<std::string> skipped_;
};

TEST_F(SideBySideTest, EveryRuntimeListedOnceUnderItsName) {
  const std::vector<Running> running = StartOneOfEach("side");
  if (HasFailure()) return;
  std::string err;
  const value list = ContainersJson(RootFlags(), &err);
  ASSERT_TRUE(err.empty()) << err;
  for (const Running& want : running) {
    SCOPED_TRACE(want.runtime + " " + want.name);
    value row = value::null();
    if (want.id.empty()) {
      for (const value& v : list.as_array()) {
        if (v.at("runtime").as_string() == want.runtime && v.at("name").as_string() == want.name)
          row = v;
      }
    } else {
      row = FindById(list, want.id);
    }
    ASSERT_FALSE(row.is_null()) << list.serialize();
    EXPECT_EQ(row.at("runtime").as_string(), want.runtime);
    EXPECT_EQ(row.at("name").as_string(), want.name);
    EXPECT_EQ(row.at("image").as_string(), want.image);
    EXPECT_TRUE(row.at("drift_known").as_bool());
  }
  // The table, as an operator sees it.
  std::vector<std::string> args = {"containers", "--state-dir", env_.dw_state()};
  for (const std::string& f : RootFlags()) args.push_back(f);
  ExecResult table = Dw(args);
  EXPECT_EQ(table.code, 0) << Describe(table);
  std::cout << table.out;
  PrintSkipped();
}

TEST_F(SideBySideTest, CollectorImagesCountEveryRuntime) {
  const std::vector<Running> running = StartOneOfEach("fleet");
  if (HasFailure()) return;
  collector_it::TempDir dir;
  collector_it::Collector c(dir);
  ASSERT_TRUE(c.Start()) << ReadFileOr(c.log());
  const std::string read = c.Token("read");
  const std::string db = env_.agent_dir() + "/fleet-agent.db";
  // A narrow host scan: the containers are what this test is about.
  const std::string rules = env_.sandbox() / "fleet-rules.yaml";
  WriteFileOrDie(env_.sandbox() / "fleet-host/etc/app.conf", "port = 80\n");
  WriteFileOrDie(rules, "version: 1\nrules:\n  - path: " + (env_.sandbox() / "fleet-host") +
                            "/**\n    check: content\n    severity: high\n");
  // A change inside every container: each event must name its container.
  for (const Running& c : running) {
    ExecResult m = Touch(c, "echo 1 > /etc/fleet.conf");
    ASSERT_EQ(m.code, 0) << c.runtime << ": " << Describe(m);
  }
  ExecResult r = Dw({"enroll", "--collector", c.url(), "--token", c.Token("enroll"), "--name",
                     "rt-host", "--db", db});
  ASSERT_EQ(r.code, 0) << Describe(r);
  r = Dw({"baseline", "create", "--root", "/", "--rules", rules, "--db", db, "--quiet"});
  ASSERT_EQ(r.code, 0) << Describe(r);
  r = Dw({"check", "--report", "--root", "/", "--rules", rules, "--db", db, "--quiet"});
  ASSERT_LE(r.code, 1) << Describe(r);
  collector_it::Answer a = c.Get("/api/v1/images", read);
  ASSERT_EQ(a.status, 200) << a.body;
  const value images = a.json();
  // (image, runtime) pairs the collector counted, and their containers.
  std::map<std::pair<std::string, std::string>, int64_t> seen;
  for (const value& i : images.at("images").as_array()) {
    for (const value& rt : i.at("runtimes").as_array()) {
      seen[{i.at("image").as_string(), rt.as_string()}] += i.at("containers").as_integer();
    }
  }
  for (const Running& want : running) {
    EXPECT_GE((seen[{want.image, want.runtime}]), 1)
        << want.runtime << " " << want.image << " not counted: " << a.body;
  }
  std::cout << "images: " << a.body << "\n";
  const std::vector<value> events = collector_it::AllDrift(c, read, "host=rt-host");
  for (const Running& want : running) {
    SCOPED_TRACE(want.runtime + " " + want.name);
    // The event path's label (docs/containers.md): RUNTIME:NAME, or the
    // name alone for driftwatch's own.
    const std::string label =
        want.runtime == "driftwatch" ? want.name : want.runtime + ":" + want.name;
    value found = value::null();
    for (const value& e : events) {
      if (e.at("path").as_string() == "container:" + label + ":/etc/fleet.conf") found = e;
    }
    ASSERT_FALSE(found.is_null()) << "no event container:" << label << ":/etc/fleet.conf";
    ASSERT_TRUE(found.has_field("container")) << found.serialize();
    const value& who = found.at("container");
    EXPECT_EQ(who.at("runtime").as_string(), want.runtime) << who.serialize();
    EXPECT_EQ(who.at("name").as_string(), want.name) << who.serialize();
    EXPECT_EQ(who.at("image").as_string(), want.image) << who.serialize();
    EXPECT_TRUE(who.at("pod").is_null()) << who.serialize();
  }
  PrintSkipped();
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::rt
