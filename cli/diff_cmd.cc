// `driftwatch diff PATH | container:NAME:/PATH`: a file's baseline content
// against the file now, as `diff -u` prints it (docs/content.md, "Diffs").
#include <filesystem>
#include <iostream>

#include "agent/check.h"
#include "agent/path_diff.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/tree_baseline.h"
#include "container/launcher.h"
#include "container/state.h"
#include "core/host.h"
#include "rules/policy.h"

namespace driftwatch::cli {
namespace {

constexpr std::string_view kContainerPrefix = "container:";

struct DiffFlags {
  std::string target;  // PATH or container:NAME:/PATH
  std::string baseline = "default";
  std::string root;
  std::string rules;
  std::string db;
  std::string state_dir = container::StateDir::DefaultPath();
};

// Prints the outcome like diff: the unified diff, "Binary files ... differ"
// or, for redacted content, that it differs and nothing of it. Exit 0 when
// equal, 1 when different.
int PrintFileDiff(const std::string& path, const agent::FileDiff& d, const std::string& old_label,
                  const std::string& new_label, const std::string& against) {
  if (!d.differs) return kExitOk;
  if (d.note == "redacted") {
    std::cout << "content redacted: " << EscapePath(path) << " differs from " << against
              << " (its rule says content: redact; nothing of it is shown)\n";
  } else if (d.note == "binary") {
    std::cout << "Binary files " << old_label << " and " << new_label << " differ\n";
  } else {
    std::cout << d.diff;
  }
  std::cout.flush();
  return kExitDrift;
}

// The logical path in container:NAME:/PATH, and the name.
Result<std::pair<std::string, std::string>> SplitContainerTarget(const std::string& target) {
  const std::string rest = target.substr(kContainerPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= rest.size() ||
      rest[colon + 1] != '/') {
    return Status::InvalidArgument("'" + target +
                                   "': expected container:NAME:/PATH, like "
                                   "container:web:/etc/nginx/nginx.conf");
  }
  return std::make_pair(rest.substr(0, colon), rest.substr(colon + 1));
}

// The container's file now: from its running root, or from its writable
// layer when it does not run (its drift events say whether the layer holds
// it, or it was removed, or it is the image's).
Result<std::optional<std::string>> ContainerFileNow(const container::StateDir& state,
                                                    const container::ContainerRecord& r,
                                                    const std::string& path,
                                                    const std::optional<std::string>& image_text,
                                                    uint64_t max_bytes) {
  Host& host = state.host();
  if (container::IsRunning(host, r)) {
    return agent::ReadFileBeneath(host, "/proc/" + std::to_string(r.pid) + "/root", path,
                                  max_bytes);
  }
  DW_ASSIGN_OR_RETURN(std::vector<DriftEvent> events, container::DiffContainer(state, r));
  for (const DriftEvent& e : events) {
    const bool at = e.path == path;
    const bool above = path.size() > e.path.size() && path.starts_with(e.path) &&
                       (e.path == "/" || path[e.path.size()] == '/');
    if (e.kind == DriftKind::kRemoved && (at || above)) return std::optional<std::string>();
    if (at) {
      auto upper =
          agent::ReadFileBeneath(host, state.ContainerDir(r.name) + "/upper", path, max_bytes);
      if (upper.ok() && upper->has_value()) return upper;
      if (!upper.ok()) return upper.status();
      return Status::Unsupported(EscapePath(path) + " changed in " + r.name +
                                 " but is not in its writable layer (a renamed directory?); "
                                 "start the container to diff it");
    }
  }
  return image_text;
}

int DiffContainerFile(const DiffFlags& f) {
  auto target = SplitContainerTarget(f.target);
  if (!target.ok()) return Fail(target.status());
  const auto& [name, path] = *target;
  container::StateDir state(DefaultHost(), f.state_dir);
  auto r = container::InspectContainer(state, name);
  if (!r.ok()) return Fail(r.status());
  auto policy =
      rules::LoadPolicyFile(DefaultHost(), f.rules.empty() ? ContainerRulesPath() : f.rules);
  if (!policy.ok()) return Fail(policy.status());
  const rules::ContentRule rule = policy->Content(path);
  const uint64_t max_bytes =
      rule.mode == rules::ContentMode::kNone ? rules::kDefaultContentMaxBytes : rule.max_bytes;
  auto image_text =
      agent::ReadFileBeneath(DefaultHost(), state.ImageRootfs(r->image), path, max_bytes);
  if (!image_text.ok()) return Fail(image_text.status().WithContext("image " + r->image));
  auto now = ContainerFileNow(state, *r, path, *image_text, max_bytes);
  if (!now.ok()) return Fail(now.status().WithContext("container " + name));
  if (!image_text->has_value() && !now->has_value()) {
    return Fail(Status::NotFound(EscapePath(path) + ": neither in image " + r->image +
                                 " nor in container " + name));
  }
  const std::string old_label = EscapePath(path) + "\timage " + r->image;
  const std::string new_label = EscapePath(path) + "\tcontainer " + name + " now";
  agent::FileDiff d = agent::DiffTexts(*image_text, *now, old_label, new_label);
  if (rule.mode == rules::ContentMode::kRedact) {
    d.note = "redacted";
    d.diff.clear();
  }
  return PrintFileDiff(path, d, old_label, new_label, "image " + r->image);
}

int Diff(const DiffFlags& f) {
  if (f.target.starts_with(kContainerPrefix)) {
    if (!f.root.empty() || f.baseline != "default") {
      return Fail(Status::InvalidArgument(
          "diff container:NAME:/PATH compares with the container's image; --root and "
          "--baseline are for host paths"));
    }
    return DiffContainerFile(f);
  }
  agent::CheckOptions o;
  o.host = &DefaultHost();
  o.db_path = f.db.empty() ? agent::DefaultDbPath() : f.db;
  o.rules_path = f.rules;
  o.root = f.root.empty() ? "/" : f.root;
  if (!o.rules_path.empty()) o.rules_path = std::filesystem::absolute(o.rules_path).string();
  o.root = std::filesystem::absolute(o.root).string();
  while (o.root.size() > 1 && o.root.back() == '/') o.root.pop_back();
  o.baseline = f.baseline;
  if (Status s = agent::ApplyBaselineDefaults(&o, !f.root.empty(), !f.rules.empty()); !s.ok()) {
    return Fail(s);
  }
  if (o.rules_path.empty()) o.rules_path = agent::DefaultRulesPath();
  auto d = agent::DiffPathWithBaseline(o, f.target);
  if (!d.ok()) return Fail(d.status());
  return PrintFileDiff(f.target, d->file, d->old_label, d->new_label,
                       "baseline '" + d->baseline + "' revision " + std::to_string(d->revision));
}

}  // namespace

void AddDiffCommand(CLI::App& root) {
  auto f = std::make_shared<DiffFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "diff",
      "the baseline's kept copy of a file against the file now, as diff -u prints it; "
      "container:NAME:/PATH compares with the container's image; exit 1 when they differ",
      [f] { return Diff(*f); });
  cmd->add_option("PATH", f->target, "an absolute path, or container:NAME:/PATH")
      ->type_name("PATH")
      ->required()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (text.starts_with('/') || text.starts_with(kContainerPrefix)) return "";
            return "expected an absolute path or container:NAME:/PATH, not '" + text + "'";
          },
          "", "path"));
  cmd->add_option("--baseline", f->baseline, "the baseline to compare with (default: default)")
      ->type_name("NAME");
  cmd->add_option("--root", f->root, "the tree the baseline was taken of (default: the baseline's)")
      ->type_name("DIR")
      ->check(cmdline::NonEmpty());
  cmd->add_option("--rules", f->rules,
                  "the rule file (default: the baseline's; for containers the container rules)")
      ->type_name("FILE");
  AddDbFlag(cmd, &f->db);
  cmd->add_option("--state-dir", f->state_dir, "where containers and images are kept")
      ->type_name("DIR");
}

}  // namespace driftwatch::cli
