// driftwatch store verify: recomputes the agent store's hash chain and holds
// its tables against it (agent/chain_verify.h, docs/integrity.md).
#include <cpprest/json.h>

#include <iostream>
#include <memory>

#include "agent/chain_verify.h"
#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/drift_json.h"
#include "core/host.h"

namespace driftwatch::cli {
namespace {

using web::json::value;

struct StoreCmdOptions {
  std::string db;  // "": the default store
  std::string format = "text";
  std::string Path() const { return db.empty() ? agent::DefaultDbPath() : db; }
};

// "seq 12 (check, 2026-12-05T10:00:00Z): why", or "checks: why" for a row.
std::string FindingLine(const agent::VerifyFinding& f) {
  if (f.seq == 0) return f.kind + ": " + f.what;
  return "seq " + std::to_string(f.seq) + " (" + f.kind + ", " + FormatRfc3339Nanos(f.time_ns) +
         "): " + f.what;
}

int RunStoreVerify(const StoreCmdOptions& o) {
  auto v = agent::VerifyStore(DefaultHost(), o.Path());
  if (!v.ok()) return Fail(v.status().WithContext("store verify"));
  if (o.format == "json") {
    value out = value::object();
    out["store"] = value(o.Path());
    out["clean"] = value::boolean(v->clean());
    out["length"] = value::number(v->length);
    out["head"] = value(v->head);
    value checked = value::object();
    checked["baselines"] = value::number(v->baselines);
    checked["checks"] = value::number(v->checks);
    checked["restores"] = value::number(v->restores);
    checked["trees"] = value::number(v->trees);
    out["checked"] = checked;
    value findings = value::array();
    size_t i = 0;
    for (const agent::VerifyFinding& f : v->findings) {
      value x = value::object();
      if (f.seq != 0) {
        x["seq"] = value::number(f.seq);
        x["time"] = value(FormatRfc3339Nanos(f.time_ns));
      }
      x["kind"] = value(f.kind);
      x["what"] = value(f.what);
      findings[i++] = x;
    }
    out["findings"] = findings;
    std::cout << out.serialize() << "\n";
  } else {
    for (const agent::VerifyFinding& f : v->findings) std::cout << FindingLine(f) << "\n";
    std::cout << o.Path() << ": chain of " << v->length << " record(s), head " << v->head << "; "
              << v->baselines << " baseline revision(s), " << v->checks << " check(s), "
              << v->restores << " restore(s), " << v->trees << " tree(s) checked: "
              << (v->clean() ? "clean"
                             : std::to_string(v->findings.size()) + " finding(s) do not fit")
              << "\n";
  }
  return v->clean() ? kExitOk : kExitDrift;
}

}  // namespace

void AddStoreCommand(CLI::App& root) {
  CLI::App* store =
      cmdline::AddGroup(root, "store", "verify the agent store's history against its hash chain");
  auto o = std::make_shared<StoreCmdOptions>();
  CLI::App* verify = cmdline::AddCommand(
      *store, "verify",
      "recompute the hash chain and check every baseline revision, check, restore and baseline "
      "tree against it",
      [o] { return RunStoreVerify(*o); });
  verify->footer(
      "exit status: 0 the history fits its chain, 1 something does not (each finding a line), "
      "2 the store cannot be read");
  AddDbFlag(verify, &o->db);
  AddFormatFlag(verify, &o->format);
}

}  // namespace driftwatch::cli
