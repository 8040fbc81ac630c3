#include "container/report.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/drift_json.h"

namespace driftwatch::container {
namespace {

using web::json::value;

value SummaryJson(const DriftSummary& s) {
  value v = value::object();
  v["added"] = value::number(static_cast<uint64_t>(s.added));
  v["modified"] = value::number(static_cast<uint64_t>(s.modified));
  v["removed"] = value::number(static_cast<uint64_t>(s.removed));
  return v;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string ShortDigest(const Hash128& h) { return h.IsZero() ? "-" : h.Hex().substr(0, 12); }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

std::string DiffText(const std::vector<DriftEvent>& events) {
  std::string out;
  for (const DriftEvent& e : events) {
    out += std::string(DiffLetter(e.kind)) + " " + EscapePath(e.path);
    if (e.kind == DriftKind::kModified) {
      std::string attrs;
      for (std::string_view n : AttrNames(e.changed))
        attrs += (attrs.empty() ? "" : ",") + std::string(n);
      out += " " + attrs;
    }
    if (e.new_entry && e.new_entry->type == EntryType::kFile && !e.new_entry->content.empty()) {
      out += " " + e.new_entry->content.Hex();
    }
    out += "\n";
  }
  return out;
}

value DiffJson(const ContainerRecord& r, const std::vector<DriftEvent>& events) {
  value v = value::object();
  v["container"] = value::string(r.name);
  v["image"] = value::string(r.image);
  v["image_digest"] = value::string(r.image_digest.Hex());
  v["summary"] = SummaryJson(Summarize(events));
  value list = value::array(events.size());
  for (size_t i = 0; i < events.size(); ++i) list[i] = DriftEventToJson(events[i]);
  v["events"] = list;
  return v;
}

std::string PsText(const std::vector<PsRow>& rows) {
  std::string out = Pad("NAME", 20) + Pad("STATUS", 12) + Pad("PID", 8) + Pad("IMAGE", 16) +
                    Pad("DIGEST", 14) + Pad("DRIFT", 12) + "COMMAND\n";
  for (const PsRow& row : rows) {
    const ContainerRecord& r = row.record;
    std::string status =
        r.status == "exited" ? "exited(" + std::to_string(r.exit_code) + ")" : r.status;
    std::string drift = !row.drift_known ? "?"
                        : row.drift.added + row.drift.modified + row.drift.removed == 0
                            ? "none"
                            : std::to_string(row.drift.added) + "A/" +
                                  std::to_string(row.drift.modified) + "C/" +
                                  std::to_string(row.drift.removed) + "D";
    out += Pad(r.name, 20) + Pad(status, 12) +
           Pad(r.status == "running" ? std::to_string(r.pid) : "-", 8) + Pad(r.image, 16) +
           Pad(ShortDigest(r.image_digest), 14) + Pad(drift, 12) + Join(r.command) + "\n";
  }
  return out;
}

value PsJson(const std::vector<PsRow>& rows) {
  value list = value::array(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const ContainerRecord& r = rows[i].record;
    value v = value::object();
    v["name"] = value::string(r.name);
    v["id"] = value::string(r.id);
    v["status"] = value::string(r.status);
    v["pid"] = value::number(r.status == "running" ? r.pid : 0);
    v["exit_code"] = value::number(r.exit_code);
    v["image"] = value::string(r.image);
    v["image_digest"] = value::string(r.image_digest.Hex());
    value cmd = value::array(r.command.size());
    for (size_t k = 0; k < r.command.size(); ++k) cmd[k] = value::string(r.command[k]);
    v["command"] = cmd;
    v["service"] = value::string(r.service);
    v["slot"] = value::string(r.slot);
    if (rows[i].drift_known) {
      const DriftSummary& s = rows[i].drift;
      v["drifted"] = value::boolean(s.added + s.modified + s.removed > 0);
      v["drift"] = SummaryJson(s);
    } else {
      v["drifted"] = value::null();
      v["drift"] = value::null();
    }
    list[i] = v;
  }
  return list;
}

std::string DiscoveredText(const std::vector<DiscoveredContainer>& found,
                           const std::vector<ContainerInfo>& rows) {
  // Cells first, so that each column is as wide as its widest value: image
  // references and Kubernetes names vary from 2 to 60 characters.
  std::vector<std::array<std::string, 6>> table = {
      {"RUNTIME", "NAME", "IMAGE", "DIGEST", "DRIFT", "NOTE"}};
  for (size_t i = 0; i < found.size() && i < rows.size(); ++i) {
    const DiscoveredContainer& c = found[i];
    const ContainerInfo& r = rows[i];
    DriftSummary s = Summarize(c.events);
    std::string drift = !c.drift_known ? "?"
                        : s.added + s.modified + s.removed == 0
                            ? "none"
                            : std::to_string(s.added) + "A/" + std::to_string(s.modified) + "C/" +
                                  std::to_string(s.removed) + "D";
    std::string digest = r.image_digest;
    if (digest.rfind("sha256:", 0) == 0) digest = digest.substr(7);
    digest = digest.empty() ? "-" : digest.substr(0, 12);
    std::string note = r.note;
    for (char& ch : note) {
      if (ch == '\n' || ch == '\t') ch = ' ';
    }
    table.push_back({r.runtime, EscapePath(r.name), r.image.empty() ? "-" : EscapePath(r.image),
                     digest, drift, note});
  }
  std::array<size_t, 5> width{};
  for (const auto& row : table) {
    for (size_t k = 0; k < width.size(); ++k) width[k] = std::max(width[k], row[k].size());
  }
  std::string out;
  for (const auto& row : table) {
    for (size_t k = 0; k < width.size(); ++k) out += Pad(row[k], width[k] + 2);
    out += row[5];
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

value DiscoveredJson(const std::vector<DiscoveredContainer>& found,
                     const std::vector<ContainerInfo>& rows) {
  value list = value::array();
  for (size_t i = 0; i < found.size() && i < rows.size(); ++i) {
    const DiscoveredContainer& c = found[i];
    value v = ContainerInfoToJson(rows[i]);
    // Every field present, empty when unknown, so that scripts need no
    // has-field checks (the wire leaves unknown identity fields out).
    for (const char* key : {"image_id", "image_tree", "note"}) {
      if (!v.has_field(key)) v[key] = value::string("");
    }
    if (!v.has_field("labels")) v["labels"] = value::object();
    if (!v.has_field("started")) v["started"] = value::null();
    if (!v.has_field("excluded")) v["excluded"] = value::array();
    v["pid"] = value::number(c.pid);
    v["root_fstype"] = value::string(c.root_fstype);
    if (c.layers) {
      value lower = value::array(c.layers->lower.size());
      for (size_t k = 0; k < c.layers->lower.size(); ++k)
        lower[k] = value::string(c.layers->lower[k]);
      v["lower"] = lower;
      v["upper"] = value::string(c.layers->upper);
    }
    value events = value::array(c.events.size());
    for (size_t k = 0; k < c.events.size(); ++k) events[k] = DriftEventToJson(c.events[k]);
    v["events"] = events;
    if (c.drift_known) {
      DriftSummary s = Summarize(c.events);
      v["drifted"] = value::boolean(s.added + s.modified + s.removed > 0);
      v["drift"] = SummaryJson(s);
    } else {
      v["drifted"] = value::null();
      v["drift"] = value::null();
    }
    list[static_cast<size_t>(i)] = v;
  }
  return list;
}

}  // namespace driftwatch::container
