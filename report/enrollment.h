// Enrolling this agent with a collector, shared by `driftwatch enroll` and
// the daemon's first start (docs/collector.md, "First start: the enroll file").
//
// The enroll file, /etc/driftwatch/enroll.yaml (written by
// `driftwatch-collector package agent`):
//
//   version: 1
//   collector: https://collector.example:8443
//   group: web                          # optional
//   ca_file: /etc/driftwatch/enroll-ca.pem  # optional
//   token_file: /etc/driftwatch/enroll.token
//
// Errors name FILE:LINE:COL; unknown keys are errors. The token is a secret:
// no error message or log line of this module contains it.
//
// Thread-safety: pure functions and calls that open their own handles.
#ifndef DRIFTWATCH_REPORT_ENROLLMENT_H_
#define DRIFTWATCH_REPORT_ENROLLMENT_H_

#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"
#include "report/outbox.h"

namespace driftwatch::report {

// The most a token file may hold.
inline constexpr size_t kMaxTokenFileBytes = 4096;

struct EnrollFile {
  std::string collector;
  std::string group;
  std::string ca_file;
  std::string token_file;
};

Result<EnrollFile> ParseEnrollFile(std::string_view yaml, const std::string& file_name);
// A regular file of at most 64 KiB read through `host`; a missing file is
// kNotFound.
Result<EnrollFile> LoadEnrollFile(Host& host, const std::string& path);

// The token in `text` read from `source`: its first line without trailing
// blanks. Empty is kInvalidArgument ("SOURCE: no token").
Result<std::string> TokenFromText(std::string_view text, const std::string& source);
// A token file: a regular file of at most kMaxTokenFileBytes (a FIFO or
// device is refused without blocking), read through `host`. A file group or
// others may read is kPermissionDenied, naming the fix (chmod 600).
Result<std::string> ReadTokenFile(Host& host, const std::string& path);

struct EnrollRequest {
  std::string collector;  // URL (client.h: several, comma-separated)
  std::string token;      // the enroll token (secret)
  std::string name;       // host name to enroll as
  std::string group;
  std::string ca_file;  // "" = the system store
  int64_t now_ns = 0;   // saved as the enrollment's time (0: not recorded)
  // The agent store where the collector's signing key, when the answer
  // carries one, is pinned (report/signing_trust.h); "" pins nothing.
  std::string db_path;
};

// Enrolls with the collector and saves the issued agent token in `outbox`'s
// enrollment state, and pins the collector's signing key; returns what was
// saved. A signing key in the answer that does not parse fails the
// enrollment before anything is saved. Errors are the client's
// (client.h: kUnavailable to retry, kPermissionDenied for a token the
// collector refused) or the store's.
Result<Enrollment> EnrollAndSave(Outbox& outbox, const EnrollRequest& request);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_ENROLLMENT_H_
