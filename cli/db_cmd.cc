// driftwatch db check | db recover: verify the agent store, rebuild a
// damaged one from what can be read (report/store_repair.h).
#include <cpprest/json.h>

#include <iostream>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/store_repair.h"

namespace driftwatch::cli {
namespace {

using web::json::value;

constexpr const char* kUsage =
    "usage: driftwatch db check [--db FILE] [--format text|json]\n"
    "       driftwatch db recover [--db FILE]\n"
    "check: exit 0 when the store is sound, 2 when it is damaged or cannot be read.\n"
    "recover: copies what can be read into a new store and keeps the damaged file as\n"
    "FILE.damaged-TIME; stop the daemon first.\n";

struct DbCmdOptions {
  std::string db;
  bool json = false;
};

value Strings(const std::vector<std::string>& lines) {
  value v = value::array();
  for (size_t i = 0; i < lines.size(); ++i) v[i] = value(lines[i]);
  return v;
}

int RunDbCheck(const DbCmdOptions& o) {
  auto check = report::CheckAgentStore(DefaultHost(), o.db);
  if (!check.ok()) return Fail(check.status());
  if (o.json) {
    value v = value::object();
    v["store"] = value(o.db);
    v["ok"] = value::boolean(check->problems.empty());
    v["problems"] = Strings(check->problems);
    v["checked"] = Strings(check->checked);
    std::cout << v.serialize() << "\n";
  } else {
    for (const std::string& p : check->problems) std::cout << "problem: " << p << "\n";
    for (const std::string& c : check->checked) std::cout << "checked: " << c << "\n";
    if (check->problems.empty()) {
      std::cout << o.db << ": ok\n";
    } else {
      std::cout << o.db << ": damaged (" << check->problems.size()
                << " problem(s)); stop the daemon and run: driftwatch db recover --db " << o.db
                << "\n";
    }
  }
  return check->problems.empty() ? kExitOk : kExitError;
}

int RunDbRecover(const DbCmdOptions& o) {
  auto r = report::RecoverAgentStore(DefaultHost(), o.db);
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
  auto check = report::CheckAgentStore(DefaultHost(), o.db);
  if (!check.ok()) return Fail(check.status());
  for (const std::string& p : check->problems) std::cout << "problem: " << p << "\n";
  std::cout << o.db
            << (check->problems.empty() ? ": recovered, db check passes\n"
                                        : ": recovered, but db check still fails\n");
  return check->problems.empty() ? kExitOk : kExitError;
}

}  // namespace

int RunDbCommand(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  if (sub == "--help" || sub == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (sub != "check" && sub != "recover") {
    std::cerr << kUsage;
    return kExitError;
  }
  auto a = Args::Parse(std::vector<std::string>(args.begin() + 1, args.end()),
                       {{"db"}, {"format"}, {"help", false}});
  if (!a.ok()) return Fail(a.status());
  if (a->Has("help")) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (!a->positional().empty()) {
    std::cerr << kUsage;
    return kExitError;
  }
  DbCmdOptions o;
  o.db = a->GetOr("db", agent::DefaultDbPath());
  const std::string format = a->GetOr("format", "text");
  if (format != "text" && format != "json") {
    return Fail(Status::InvalidArgument("--format must be text or json, not '" + format + "'"));
  }
  o.json = format == "json";
  return sub == "check" ? RunDbCheck(o) : RunDbRecover(o);
}

}  // namespace driftwatch::cli
