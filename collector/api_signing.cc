// The collector's signatures on the API (docs/api.md, "Signing"): its public
// key, commands signed as they are handed out, and the signed statement of
// a baseline revision answered to the ack of the command that made it.
#include <cpprest/json.h>

#include "collector/api.h"
#include "collector/api_json.h"
#include "core/json_fields.h"
#include "core/normal_path.h"
#include "core/signed_statement.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

// The fields exactly as CommandToJson puts them on the wire (and so as the
// agent reads them back): paths escaped, restore's flags only for restore.
sign::CommandFields WireFields(const CommandRecord& c) {
  sign::CommandFields f;
  f.id = c.id;
  f.host = c.host_id;
  f.kind = c.kind;
  if (c.kind == "accept" || c.kind == "restore") {
    for (const std::string& p : c.paths) f.paths.push_back(EscapePath(p));
  }
  if (c.kind == "restore") {
    f.all = c.all;
    f.remove_added = c.remove_added;
    f.dry_run = c.dry_run;
    f.reason = c.reason;
  }
  return f;
}

}  // namespace

value Api::SigningKeyJson() const {
  if (!signing_) return value::null();
  value o = value::object();
  const sign::PublicKey& pub = signing_->key().Public();
  o["key_id"] = value(pub.Id());
  o["public_key"] = value(pub.Pem());
  return o;
}

value Api::SignedCommandJson(const CommandRecord& c) const {
  value o = CommandToJson(c);
  if (!signing_) return o;
  // A command that cannot be signed goes out unsigned: an agent that pinned
  // the key refuses it and says why in its ack.
  if (auto sig = sign::SignCommand(signing_->key(), WireFields(c)); sig.ok()) {
    o["signature"] = value(*sig);
  }
  return o;
}

std::string Api::SignAckedRevision(const Caller& c, int64_t command_id, const value& ack_body) {
  if (!signing_) return "";
  const value* b = json_fields::Find(ack_body, "baseline");
  if (b == nullptr || !b->is_object()) return "";
  // Only a revision made for a baseline or accept command of this host is
  // signed; the ack is accepted once per command, so it is signed once.
  auto commands = store_.ListCommands(c.host_id);
  if (!commands.ok()) return "";
  std::string kind;
  for (const CommandRecord& r : *commands) {
    if (r.id == command_id) kind = r.kind;
  }
  if (kind != "baseline" && kind != "accept") return "";
  sign::Statement s;
  Status err = json_fields::GetString(*b, "target", "baseline", true, &s.target);
  if (err.ok()) err = json_fields::GetString(*b, "name", "baseline", true, &s.baseline);
  if (err.ok()) err = json_fields::GetInt64(*b, "revision", "baseline", true, &s.revision);
  if (err.ok()) err = json_fields::GetString(*b, "root", "baseline", true, &s.root);
  if (err.ok()) err = json_fields::GetString(*b, "rules", "baseline", true, &s.rules);
  // An older agent sends no target or rules: nothing to sign.
  if (!err.ok() || !sign::ValidateStatement(s).ok()) return "";
  auto signed_file = sign::SignStatement(signing_->key(), sign::FormatStatement(s));
  return signed_file.ok() ? *signed_file : "";
}

}  // namespace driftwatch::collector
