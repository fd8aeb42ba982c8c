// core/atomic_file.cpp — write to a temporary file, fsync, rename over the target.
#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "error.hpp"

namespace humble {

void write_file_atomically(const std::string& path, std::string_view bytes, const char* op) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string temp = (dir / str_cat(".", target.filename().string(), ".tmp.XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw IoError(
        str_cat("[", op, "] ", path, ": cannot create a temporary file in ", dir.string(), ": ", std::strerror(errno)));
  const auto fail = [&](const char* step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return IoError(str_cat("[", op, "] ", path, ": ", step, " failed: ", std::strerror(err)));
  };
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno != EINTR) throw fail("write");
    done += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  if (::fchmod(fd, 0644) != 0) throw fail("fchmod");
  if (::fsync(fd) != 0) throw fail("fsync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) throw fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) throw fail("rename");
  if (const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);  // make the rename durable
    ::close(dir_fd);
  }
}

}  // namespace humble
