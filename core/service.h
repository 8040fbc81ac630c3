// Running under a service manager (systemd; docs/service.md).
//
// Notify*() tell the manager of a Type=notify unit where the process stands
// (the sd_notify(3) protocol); without $NOTIFY_SOCKET (started by hand, by a test, in a
// chroot) they do nothing.
//
// A long-running command also has to survive a SIGHUP that arrives before it
// has installed its reload handler: the default action of SIGHUP ends the
// process, and loading and initialising the shared libraries takes ~15 ms.
// IgnoreHangupEarly(), called from the executable's .preinit_array (which
// runs before any library's constructor), sets SIGHUP to SIG_IGN for those
// commands only, so that what the other commands exec never inherits it.
// The reload handler installed later replaces SIG_IGN.
//
// Thread-safety: Notify*() are safe from any thread.
#ifndef DRIFTWATCH_CORE_SERVICE_H_
#define DRIFTWATCH_CORE_SERVICE_H_

#include <string_view>

namespace driftwatch::service {

// READY=1, with a STATUS= line when `status` is not empty.
void NotifyReady(std::string_view status = "");
// RELOADING=1 with the CLOCK_MONOTONIC time systemd 253 asks for; READY=1
// after the reload (NotifyReady) ends it.
void NotifyReloading();
void NotifyStopping();
void NotifyStatus(std::string_view status);

// Sets SIGHUP to SIG_IGN when the command line is a long-running command:
// `argv[1]` equals `command`, or `command` is empty and argv[1] is absent or
// starts with "--" (the collector's serve). Async-signal-safe; calls nothing
// that needs a library's constructor to have run.
void IgnoreHangupEarly(int argc, char** argv, const char* command);

}  // namespace driftwatch::service

#endif  // DRIFTWATCH_CORE_SERVICE_H_
