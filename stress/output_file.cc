#include "stress/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace hvo::stress {

std::string write_file_atomically(const std::string& path, std::string_view text) {
  if (path.empty()) return "empty file name";
  if (std::filesystem::is_directory(path)) return "'" + path + "' is a directory";
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return "cannot write '" + path + "': " + std::strerror(errno);
  const auto fail = [&](const char* what) {
    const std::string msg = "cannot " + std::string(what) + " '" + path + "': " + std::strerror(errno);
    unlink(tmp.c_str());
    return msg;
  };
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp makes the file 0600; an output file is for others to read too.
  (void)fchmod(fd, 0644);
  if (close(fd) != 0) return fail("write");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail("write");
  return {};
}

std::string check_writable(const std::string& path) {
  if (path.empty()) return "empty file name";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "'" + path + "' is a directory";
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec)) return "cannot write '" + path + "': no directory '" + dir.string() + "'";
  if (access(dir.c_str(), W_OK) != 0)
    return "cannot write '" + path + "': directory '" + dir.string() + "' is not writable";
  return {};
}

}  // namespace hvo::stress
