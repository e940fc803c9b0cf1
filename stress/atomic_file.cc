#include "stress/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "stress/usage_error.h"

namespace hvo::stress {

namespace {

using cli::abbreviate;

std::string fail(std::string_view what, const std::string& path, int err) {
  return std::string(what) + " '" + abbreviate(path) + "': " + errno_text(err);
}

// write() until all is written: a regular file may take fewer bytes than
// asked (a signal, a quota) without failing.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

std::string parent_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// The directory's entry for a new name reaches the disk only with an
// fsync() of the directory itself.
int fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 || errno == EINVAL ? 0 : errno;  // EINVAL: a file system without dir fsync
  ::close(fd);
  return rc;
}

// Gives the finished temporary its final name, never replacing a file:
// 0, or the errno (EEXIST: the name is taken).
int link_no_replace(const std::string& tmp, const std::string& final_path) {
  if (::link(tmp.c_str(), final_path.c_str()) == 0) return 0;
  const int err = errno;
  if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EMLINK) return err;
#ifdef SYS_renameat2
  // A file system without hard links (vfat, some FUSE): rename, atomically
  // refusing an existing target.
  constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE, <linux/fs.h>
  if (::syscall(SYS_renameat2, AT_FDCWD, tmp.c_str(), AT_FDCWD, final_path.c_str(), kRenameNoReplace) == 0) return 0;
  return errno;
#else
  return err;
#endif
}

// The temporary file, removed unless kept (after a successful link it is
// a second name of the final file, and is removed too).
class TempFile {
 public:
  explicit TempFile(const std::string& dir) : path_(dir + "/.hvo-stress-tmp-XXXXXX") {
    fd_ = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd_ < 0) error_ = errno;
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (error_ == 0) ::unlink(path_.c_str());  // mkostemp created it
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  [[nodiscard]] int open_error() const { return fd_ < 0 ? error_ : 0; }
  [[nodiscard]] const std::string& path() const { return path_; }

  // Writes, flushes to disk and closes: 0 or the errno.
  int write_and_sync(std::string_view contents) {
    // mkostemp() creates 0600; a finding is for the CI job that collects
    // --out and whoever reads its artifacts, as a plain file would be.
    if (::fchmod(fd_, 0644) != 0) return errno;
    if (const int err = write_all(fd_, contents); err != 0) return err;
    if (::fsync(fd_) != 0) return errno;
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return errno;  // NFS reports some write errors only here
    return 0;
  }

 private:
  std::string path_;
  int fd_ = -1;
  int error_ = 0;
};

// Writes the temporary and links it to the first free name make_name(i)
// gives, i = 1, 2, ... up to max_names.
template <class MakeName>
AtomicWriteResult write_linked(const std::string& dir, std::string_view contents, int max_names,
                               const MakeName& make_name) {
  TempFile tmp(dir);
  if (const int err = tmp.open_error(); err != 0) return {{}, fail("cannot create a file in", dir, err)};
  if (const int err = tmp.write_and_sync(contents); err != 0)
    return {{}, fail("cannot write", tmp.path(), err) + " (nothing was saved)"};
  for (int i = 1; i <= max_names; ++i) {
    const std::string name = make_name(i);
    const int err = link_no_replace(tmp.path(), name);
    if (err == EEXIST) continue;
    if (err != 0) return {{}, fail("cannot create", name, err)};
    if (const int derr = fsync_dir(dir); derr != 0) {
      // The file is whole and named; only its durability across a crash is
      // in doubt. Say so, but it exists: report it as saved.
      std::fprintf(stderr, "hvo-stress: warning: fsync of '%s': %s\n", abbreviate(dir).c_str(),
                   errno_text(derr).c_str());
    }
    return {name, {}};
  }
  return {{}, fail("every name is taken for", make_name(1), EEXIST)};
}

}  // namespace

std::string errno_text(int err) {
  std::error_code ec(err, std::generic_category());
  return ec.message();
}

AtomicWriteResult write_new_file(const std::string& dir, std::string_view stem, std::string_view ext,
                                 std::string_view contents) {
  const std::string base = (std::filesystem::path(dir) / std::string(stem)).string();
  return write_linked(dir, contents, kMaxNameSuffix, [&](int i) {
    return base + (i == 1 ? std::string() : "-" + std::to_string(i)) + std::string(ext);
  });
}

AtomicWriteResult write_new_file_at(const std::string& path, std::string_view contents) {
  return write_linked(parent_of(path), contents, 1, [&](int) { return path; });
}

std::string check_can_create(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return "'" + abbreviate(path) + "' exists; it is never overwritten";
  if (errno != ENOENT) return fail("cannot use", path, errno);
  const std::string dir = parent_of(path);
  if (::stat(dir.c_str(), &st) != 0) return fail("cannot use the directory", dir, errno);
  if (!S_ISDIR(st.st_mode)) return "'" + abbreviate(dir) + "' is not a directory";
  // access() asks the kernel with our credentials, EROFS included.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return fail("cannot create files in", dir, errno);
  return {};
}

std::string prepare_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create directory '" + abbreviate(dir) + "': " + ec.message();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return fail("cannot use", dir, errno);
  if (!S_ISDIR(st.st_mode)) return "'" + abbreviate(dir) + "' is not a directory";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return fail("cannot create files in", dir, errno);
  return {};
}

}  // namespace hvo::stress
