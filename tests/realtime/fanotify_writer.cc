// A process whose identity the fanotify tests know: appends a line to the
// file named by argv[1], then waits to be killed (so that it is still
// running when its event is read).
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  if (::write(fd, "x\n", 2) != 2) return 1;
  ::close(fd);
  while (true) ::pause();
}
