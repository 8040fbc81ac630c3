#include "tests/runtimes/rows.h"

#include <algorithm>
#include <iostream>

#include "core/drift_json.h"
#include "tests/runtimes/oracle.h"
#include "tests/runtimes/runtimes_env.h"

namespace driftwatch::rt {
namespace {

using web::json::value;

std::string Field(const value& row, const std::string& key) {
  return row.has_field(key) && row.at(key).is_string() ? row.at(key).as_string() : "";
}

}  // namespace

value ContainersJson(const std::vector<std::string>& flags, std::string* error) {
  std::vector<std::string> args = {"containers", "--format", "json", "--state-dir",
                                   RuntimesEnv::Get().dw_state()};
  args.insert(args.end(), flags.begin(), flags.end());
  ExecResult r = Dw(args);
  // Warnings (an image not baselined, a runtime's unreadable file) explain
  // a failure below: kept in the test's log.
  if (!r.err.empty()) std::cout << "driftwatch containers, stderr:\n" << r.err;
  if (r.code != 0) {
    *error = "driftwatch containers: " + Describe(r);
    return value::null();
  }
  try {
    value v = value::parse(r.out);
    if (v.is_array()) return v;
    *error = "driftwatch containers: not an array: " + r.out;
  } catch (const std::exception& e) {
    *error = std::string("driftwatch containers: bad JSON (") + e.what() + "): " + r.out;
  }
  return value::null();
}

value FindById(const value& list, const std::string& id) {
  value found = value::null();
  int n = 0;
  for (const value& v : list.as_array()) {
    if (Field(v, "id") == id) {
      found = v;
      ++n;
    }
  }
  EXPECT_LE(n, 1) << "container " << id << " listed " << n << " times: " << list.serialize();
  return found;
}

void ExpectIdentity(const value& row, const Identity& want, const std::string& runtime,
                    const std::string& name) {
  SCOPED_TRACE(row.serialize());
  EXPECT_EQ(Field(row, "runtime"), runtime);
  EXPECT_EQ(Field(row, "name"), name);
  EXPECT_EQ(Field(row, "id"), want.id);
  EXPECT_EQ(Field(row, "image"), want.image);
  EXPECT_EQ(Field(row, "image_id"), want.image_id);
  EXPECT_EQ(Field(row, "image_digest"), want.image_digest);
  Labels labels;
  if (row.has_field("labels") && row.at("labels").is_object()) {
    for (const auto& [k, v] : row.at("labels").as_object()) {
      labels.emplace_back(k, v.is_string() ? v.as_string() : v.serialize());
    }
  }
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, want.labels);
  ASSERT_TRUE(row.has_field("pid") && row.at("pid").is_integer());
  EXPECT_EQ(row.at("pid").as_number().to_int64(), want.pid);
  const std::string started = Field(row, "started");
  ASSERT_FALSE(started.empty()) << "no start time";
  auto t = ParseRfc3339(started);
  ASSERT_TRUE(t.ok()) << started;
  if (want.started_ns != 0) {
    EXPECT_EQ(*t, want.started_ns) << started;
  }
  // The image's tree digest: the lower layers as driftwatch scanned them.
  EXPECT_EQ(Field(row, "image_tree").size(), 32u);
  EXPECT_EQ(row.has_field("drift_known") && row.at("drift_known").as_bool(), true);
}

void ExpectMountsLeftOut(const value& row, const ContainerSpec& spec) {
  const std::vector<std::string> mounts = {spec.volume_dest, spec.bind_dest, spec.tmpfs_dest};
  std::vector<std::string> excluded;
  if (row.has_field("excluded")) {
    for (const value& p : row.at("excluded").as_array()) excluded.push_back(p.as_string());
  }
  for (const std::string& m : mounts) {
    EXPECT_NE(std::find(excluded.begin(), excluded.end(), m), excluded.end())
        << m << " not in excluded: " << row.serialize();
  }
  if (row.has_field("events") && row.at("events").is_array()) {
    EXPECT_EQ(EventsUnder(row.at("events"), mounts), std::vector<std::string>{})
        << "drift inside the container's mounts";
  }
}

}  // namespace driftwatch::rt
