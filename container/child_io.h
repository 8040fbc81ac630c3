// The plumbing between the launcher and its child processes: pipes and
// socket pairs created O_CLOEXEC, whole writes and bounded reads, and the
// wait for a child's exit code (internal to the launcher and exec).
//
// Thread-safety: free functions and value types; reentrant.
#ifndef DRIFTWATCH_CONTAINER_CHILD_IO_H_
#define DRIFTWATCH_CONTAINER_CHILD_IO_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

struct Pipe {
  UniqueFd r, w;
  static Result<Pipe> Make();
};

// A unix stream socket pair: one end for the caller, one for the child.
struct SocketPair {
  UniqueFd parent, child;
  static Result<SocketPair> Make();
};

// Writes all of `s` (retrying on EINTR); gives up silently on an error.
void WriteAll(int fd, std::string_view s);
// Reads until end of file, at most about 64 KiB.
std::string ReadAll(int fd);
// Waits for the child; its exit code, 128+N for signal N, 255 on error.
int WaitExit(pid_t pid);
// Without trailing newlines and spaces.
std::string TrimEnd(std::string s);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_CHILD_IO_H_
