#include "container/slots.h"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "container/launcher.h"
#include "core/host.h"

namespace driftwatch::container {
namespace {

// Runs the health command until it succeeds; the error carries the last
// exit code and output.
Status CheckHealth(const StateDir& state, const std::string& container, const std::string& health,
                   int tries, std::chrono::milliseconds interval) {
  std::string last = "never ran";
  for (int i = 0; i < tries; ++i) {
    if (i > 0) std::this_thread::sleep_for(interval);
    auto r = InspectContainer(state, container);
    if (!r.ok()) return r.status();
    if (!IsRunning(state.host(), *r)) {
      return Status::Unavailable("health check of " + container +
                                 " failed: the container exited with code " +
                                 std::to_string(r->exit_code));
    }
    char tmpl[] = "/tmp/driftwatch-health-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return ErrnoStatus("health output file", errno);
    unlink(tmpl);
    UniqueFd out(fd);
    ExecOptions exec;
    exec.out_fd = out.get();
    exec.err_fd = out.get();
    auto code = ExecInContainer(state, container, {"/bin/sh", "-c", health}, exec);
    if (code.ok() && *code == 0) return Status::Ok();
    std::string output;
    char buf[1024];
    ssize_t n = pread(out.get(), buf, sizeof buf, 0);
    if (n > 0) output.assign(buf, static_cast<size_t>(n));
    while (!output.empty() && output.back() == '\n') output.pop_back();
    last = code.ok() ? "exit " + std::to_string(*code) + (output.empty() ? "" : ": " + output)
                     : code.status().ToString();
  }
  return Status::Unavailable("health check of " + container + " failed after " +
                             std::to_string(tries) + " tries (" + last + ")");
}

}  // namespace

std::string SlotContainer(const std::string& service, const std::string& slot) {
  return service + "-" + slot;
}

Result<SlotOutcome> Deploy(const StateDir& state, const DeployOptions& o) {
  DW_RETURN_IF_ERROR(ValidateName("service", o.service));
  if (o.health.empty()) return Status::InvalidArgument("deploy needs --health CMD");
  ServiceRecord svc;
  auto loaded = state.LoadService(o.service);
  if (loaded.ok()) {
    svc = std::move(loaded).value();
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    svc.name = o.service;
  } else {
    return loaded.status();
  }
  const std::string passive = svc.active == "a" ? "b" : "a";
  const std::string name = SlotContainer(o.service, passive);

  ContainerRecord rec;
  rec.name = name;
  static_cast<ContainerSpec&>(rec) = o.spec;
  if (rec.command.empty()) {
    if (svc.active.empty())
      return Status::InvalidArgument("first deploy of " + o.service + " needs -- CMD...");
    DW_ASSIGN_OR_RETURN(ContainerRecord active,
                        state.LoadContainer(SlotContainer(o.service, svc.active)));
    static_cast<ContainerSpec&>(rec) = static_cast<const ContainerSpec&>(active);
    rec.image = o.spec.image;
  }
  rec.service = o.service;
  rec.slot = passive;
  // The passive slot's old container (the previous deploy) makes way.
  auto old = state.LoadContainer(name);
  if (old.ok()) {
    DW_RETURN_IF_ERROR(RemoveContainer(state, name, true));
  } else if (old.status().code() != StatusCode::kNotFound) {
    return old.status();
  }
  DW_ASSIGN_OR_RETURN(ContainerRecord created, CreateContainer(state, rec));
  StartOptions start;
  start.detach = true;
  auto started = StartContainer(state, created.name, start);
  if (!started.ok())
    return started.status().WithContext("deploy " + o.service + ": slot " + passive);
  Status healthy = CheckHealth(state, name, o.health, o.health_tries, o.health_interval);
  if (!healthy.ok()) {
    StopContainer(state, name, std::chrono::seconds(5)).IgnoreError();
    std::string kept =
        svc.active.empty() ? "no slot was active" : "slot " + svc.active + " keeps serving";
    return Status(healthy.code(), "deploy " + o.service + " to slot " + passive + ": " +
                                      healthy.message() + "; " + kept);
  }
  SlotOutcome out{passive, name, ""};
  if (!svc.active.empty()) {
    out.stopped = SlotContainer(o.service, svc.active);
    DW_RETURN_IF_ERROR(StopContainer(state, out.stopped, std::chrono::seconds(10)));
  }
  svc.previous = svc.active;
  svc.active = passive;
  svc.health = o.health;
  DW_RETURN_IF_ERROR(state.SaveService(svc));
  return out;
}

Result<SlotOutcome> Rollback(const StateDir& state, const std::string& service, int health_tries,
                             std::chrono::milliseconds health_interval) {
  DW_ASSIGN_OR_RETURN(ServiceRecord svc, state.LoadService(service));
  if (svc.previous.empty())
    return Status::NotFound("service " + service + " has no previous slot to roll back to");
  const std::string prev = SlotContainer(service, svc.previous);
  DW_ASSIGN_OR_RETURN(ContainerRecord rec, InspectContainer(state, prev));
  if (!IsRunning(state.host(), rec)) {
    StartOptions start;
    start.detach = true;
    auto started = StartContainer(state, prev, start);
    if (!started.ok()) return started.status().WithContext("rollback " + service);
  }
  Status healthy = CheckHealth(state, prev, svc.health, health_tries, health_interval);
  if (!healthy.ok()) {
    StopContainer(state, prev, std::chrono::seconds(5)).IgnoreError();
    return Status(healthy.code(), "rollback " + service + ": " + healthy.message() + "; slot " +
                                      svc.active + " keeps serving");
  }
  SlotOutcome out{svc.previous, prev, SlotContainer(service, svc.active)};
  DW_RETURN_IF_ERROR(StopContainer(state, out.stopped, std::chrono::seconds(10)));
  std::swap(svc.active, svc.previous);
  DW_RETURN_IF_ERROR(state.SaveService(svc));
  return out;
}

}  // namespace driftwatch::container
