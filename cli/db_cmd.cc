// driftwatch db check | db recover: verify the agent store, rebuild a
// damaged one from what can be read (report/store_repair.h).
#include <cpprest/json.h>

#include <iostream>
#include <memory>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "report/store_repair.h"

namespace driftwatch::cli {
namespace {

using web::json::value;

struct DbCmdOptions {
  std::string db;  // "": the default store
  std::string format = "text";
  std::string Path() const { return db.empty() ? agent::DefaultDbPath() : db; }
};

int RunDbCheck(const DbCmdOptions& o) {
  auto check = report::CheckAgentStore(DefaultHost(), o.Path());
  if (!check.ok()) return Fail(check.status());
  if (o.format == "json") {
    value v = value::object();
    v["store"] = value(o.Path());
    v["ok"] = value::boolean(check->problems.empty());
    v["problems"] = StringsToJson(check->problems);
    v["checked"] = StringsToJson(check->checked);
    std::cout << v.serialize() << "\n";
  } else {
    for (const std::string& p : check->problems) std::cout << "problem: " << p << "\n";
    for (const std::string& c : check->checked) std::cout << "checked: " << c << "\n";
    if (check->problems.empty()) {
      std::cout << o.Path() << ": ok\n";
    } else {
      std::cout << o.Path() << ": damaged (" << check->problems.size()
                << " problem(s)); stop the daemon and run: driftwatch db recover --db " << o.Path()
                << "\n";
    }
  }
  return check->problems.empty() ? kExitOk : kExitError;
}

int RunDbRecover(const DbCmdOptions& o) {
  auto r = report::RecoverAgentStore(DefaultHost(), o.Path());
  if (!r.ok()) return Fail(r.status().WithContext("db recover"));
  for (const report::TableRecovery& t : r->tables) {
    std::cout << t.table << ": ";
    if (!t.note.empty() && t.kept == 0) {
      std::cout << t.note << "\n";
      continue;
    }
    std::cout << t.kept << " row(s) kept";
    if (t.dropped > 0) std::cout << ", " << t.dropped << " dropped (they pointed at lost rows)";
    if (!t.lost_ranges.empty()) {
      std::cout << "; unreadable, lost: keys";
      for (const std::string& range : t.lost_ranges) std::cout << " " << range;
    }
    if (!t.note.empty()) std::cout << " (" << t.note << ")";
    std::cout << "\n";
  }
  std::cout << "the damaged store is kept as " << r->damaged_copy << "\n";
  auto check = report::CheckAgentStore(DefaultHost(), o.Path());
  if (!check.ok()) return Fail(check.status());
  for (const std::string& p : check->problems) std::cout << "problem: " << p << "\n";
  std::cout << o.Path()
            << (check->problems.empty() ? ": recovered, db check passes\n"
                                        : ": recovered, but db check still fails\n");
  return check->problems.empty() ? kExitOk : kExitError;
}

}  // namespace

void AddDbCommand(CLI::App& root) {
  CLI::App* db = cmdline::AddGroup(root, "db", "verify the agent store, rebuild a damaged one");
  auto o = std::make_shared<DbCmdOptions>();
  CLI::App* check = cmdline::AddCommand(
      *db, "check", "verify the store: exit 0 when it is sound, 2 when damaged or unreadable",
      [o] { return RunDbCheck(*o); });
  check->footer("exit status: 0 the store is sound, 2 damaged or unreadable");
  AddDbFlag(check, &o->db);
  AddFormatFlag(check, &o->format);
  CLI::App* recover = cmdline::AddCommand(
      *db, "recover",
      "copy what can be read into a new store, keeping the damaged file as FILE.damaged-TIME; "
      "stop the daemon first",
      [o] { return RunDbRecover(*o); });
  recover->footer("exit status: 0 recovered and db check passes, 2 otherwise");
  AddDbFlag(recover, &o->db);
}

}  // namespace driftwatch::cli
