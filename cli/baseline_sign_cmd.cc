// driftwatch baseline statement | sign | attach | signatures: signed
// baselines with a key kept off the host (docs/integrity.md, "Signed
// baselines").
#include <fcntl.h>
#include <sys/stat.h>

#include <cpprest/json.h>
#include <iostream>

#include "agent/baseline_statement.h"
#include "agent/check.h"
#include "agent/store.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "core/private_file.h"
#include "core/sign.h"
#include "core/signed_statement.h"
#include "report/agent_config.h"
#include "report/signing_trust.h"

namespace driftwatch::cli {
namespace {

std::string DbPath(const std::string& db) { return db.empty() ? agent::DefaultDbPath() : db; }

// The agent configuration for its trusted keys: --config must exist, the
// default file only when present.
Result<report::DaemonConfig> LoadConfig(const std::string& config) {
  const bool required = !config.empty();
  return report::LoadDaemonConfig(DefaultHost(), required ? config : report::kDefaultAgentConfig,
                                  required);
}

struct StatementFlags {
  std::string db;
  std::string name = "default";
  int64_t revision = 0;
};

int Statement(const StatementFlags& f) {
  auto store = agent::Store::Open(DefaultHost(), DbPath(f.db));
  if (!store.ok()) return Fail(store.status());
  auto s = agent::StatementOf(**store, f.name, f.revision);
  if (!s.ok()) return Fail(s.status());
  std::cout << sign::FormatStatement(*s);
  return kExitOk;
}

struct SignFlags {
  std::string key;
  std::string statement;
  std::string out;
};

// Needs no store: it runs on the machine that keeps the key.
int Sign(const SignFlags& f) {
  Host& host = DefaultHost();
  struct stat st {};
  Status stat = host.StatAt(AT_FDCWD, f.key, &st);
  if (!stat.ok()) return Fail(stat.WithContext("--key"));
  // A signing key others can read is no longer a secret: refuse, as ssh does.
  Status priv = CheckPrivate(st, f.key, "the signing key", "use");
  if (!priv.ok()) return Fail(priv);
  auto pem = host.ReadFile(f.key, sign::kMaxKeyFileBytes);
  if (!pem.ok()) return Fail(pem.status());
  auto key = sign::PrivateKey::FromPem(*pem);
  if (!key.ok()) return Fail(key.status().WithContext(f.key));
  auto text = host.ReadFile(f.statement, sign::kMaxSignedStatementBytes);
  if (!text.ok()) return Fail(text.status());
  auto signed_file = sign::SignStatement(*key, *text);
  if (!signed_file.ok()) return Fail(signed_file.status().WithContext(f.statement));
  if (f.out.empty() || f.out == "-") {
    std::cout << *signed_file;
    return kExitOk;
  }
  Status w = host.WriteFileAtomic(f.out, *signed_file, 0644);
  if (!w.ok()) return Fail(w);
  std::cerr << "signed by key " << key->Public().Id() << ": " << f.out << "\n";
  return kExitOk;
}

struct AttachFlags {
  std::string db;
  std::string config;
  std::string file;
};

int Attach(const AttachFlags& f) {
  Host& host = DefaultHost();
  auto config = LoadConfig(f.config);
  if (!config.ok()) return Fail(config.status());
  const std::string db = DbPath(f.db);
  auto trusted = report::TrustedKeys(host, config->trusted_keys, db);
  if (!trusted.ok()) return Fail(trusted.status());
  auto text = host.ReadFile(f.file, sign::kMaxSignedStatementBytes);
  if (!text.ok()) return Fail(text.status());
  auto store = agent::Store::Open(host, db);
  if (!store.ok()) return Fail(store.status());
  auto stored = agent::AttachSignature(**store, *text, *trusted, host.NowNs());
  if (!stored.ok()) return Fail(stored.status().WithContext(f.file + ": refused"));
  std::cout << "baseline '" << stored->name << "' revision " << stored->revision
            << ": signature by key " << stored->key << " attached (chain record " << stored->seq
            << ")\n";
  return kExitOk;
}

struct ListFlags {
  std::string db;
  std::string config;
  std::string format = "text";
};

int Signatures(const ListFlags& f) {
  Host& host = DefaultHost();
  auto config = LoadConfig(f.config);
  if (!config.ok()) return Fail(config.status());
  const std::string db = DbPath(f.db);
  auto trusted = report::TrustedKeys(host, config->trusted_keys, db);
  if (!trusted.ok()) return Fail(trusted.status());
  auto store = agent::Store::Open(host, db);
  if (!store.ok()) return Fail(store.status());
  auto rows = agent::BaselineSignatures(**store);
  if (!rows.ok()) return Fail(rows.status());
  web::json::value arr = web::json::value::array();
  size_t i = 0;
  for (const agent::StoredSignature& s : *rows) {
    // Each signature is verified again, against the revision as the store
    // holds it now and the keys trusted now.
    std::string verdict = "valid";
    auto actual = agent::StatementOf(**store, s.name, s.revision);
    Status v = actual.status();
    if (v.ok()) v = sign::VerifySignedFile(s.SignedFile(), *trusted, *actual).status();
    if (!v.ok()) verdict = "invalid: " + v.message();
    if (f.format == "json") {
      web::json::value o = web::json::value::object();
      o["seq"] = web::json::value::number(s.seq);
      o["time"] = web::json::value::string(FormatRfc3339Nanos(s.time_ns));
      o["baseline"] = web::json::value::string(s.name);
      o["revision"] = web::json::value::number(s.revision);
      o["root"] = web::json::value::string(s.root);
      o["key"] = web::json::value::string(s.key);
      o["valid"] = web::json::value::boolean(v.ok());
      if (!v.ok()) o["why"] = web::json::value::string(v.message());
      arr[i++] = o;
    } else {
      std::cout << s.name << "  rev " << s.revision << "  root " << s.root.substr(0, 12) << "  key "
                << s.key << "  " << FormatTime(s.time_ns) << "  " << verdict << "\n";
    }
  }
  if (f.format == "json") std::cout << arr.serialize() << "\n";
  return kExitOk;
}

}  // namespace

void AddBaselineSigningCommands(CLI::App& baseline) {
  auto st = std::make_shared<StatementFlags>();
  CLI::App* statement = cmdline::AddCommand(
      baseline, "statement", "print the statement of a baseline revision, for signing",
      [st] { return Statement(*st); });
  statement->add_option("--name", st->name, "the baseline (default: default)")->type_name("NAME");
  statement->add_option("--revision", st->revision, "the revision (default: the latest)")
      ->type_name("N")
      ->check(cmdline::PositiveInteger());
  AddDbFlag(statement, &st->db);

  auto sg = std::make_shared<SignFlags>();
  CLI::App* sign_cmd = cmdline::AddCommand(
      baseline, "sign", "sign a baseline statement with an Ed25519 key (needs no agent store)",
      [sg] { return Sign(*sg); });
  sign_cmd
      ->add_option("--key", sg->key, "the private key (PEM, openssl genpkey -algorithm ed25519)")
      ->type_name("FILE")
      ->required();
  sign_cmd->add_option("STATEMENT", sg->statement, "the statement file")->required();
  sign_cmd->add_option("-o,--output", sg->out, "write the signed statement here (default: stdout)")
      ->type_name("FILE");

  auto at = std::make_shared<AttachFlags>();
  CLI::App* attach = cmdline::AddCommand(
      baseline, "attach", "verify a signed statement and keep it with its baseline revision",
      [at] { return Attach(*at); });
  attach->add_option("SIGNED", at->file, "the signed statement file")->required();
  AddDbFlag(attach, &at->db);
  attach
      ->add_option("--config", at->config,
                   std::string("the agent configuration, for trusted_keys (default ") +
                       report::kDefaultAgentConfig + " when present)")
      ->type_name("FILE");

  auto ls = std::make_shared<ListFlags>();
  CLI::App* list = cmdline::AddCommand(baseline, "signatures",
                                       "the baseline signatures kept, each verified again",
                                       [ls] { return Signatures(*ls); });
  AddDbFlag(list, &ls->db);
  AddFormatFlag(list, &ls->format);
  list->add_option("--config", ls->config,
                   std::string("the agent configuration, for trusted_keys (default ") +
                       report::kDefaultAgentConfig + " when present)")
      ->type_name("FILE");
}

}  // namespace driftwatch::cli
