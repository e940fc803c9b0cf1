// Runs a program and captures its exit code, stdout and stderr: the CLI
// tests check hvo-stress exactly as a user or a CI script sees it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace hvo::testing {

struct RunResult {
  int exit_code = -1;  // -1 if the program did not exit normally (a signal)
  std::string out;
  std::string err;
};

namespace detail {

// A temporary file, removed on destruction. Files rather than pipes: the
// child can write any amount to both streams without a reader loop.
class TempFile {
 public:
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr ? dir : "/tmp") + "/hvo-cli-test-XXXXXX";
    const int fd = mkstemp(path_.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
};

}  // namespace detail

// A program started and not yet waited for: to signal it, or to run two
// at once. stdin from /dev/null, stdout and stderr to files.
class Child {
 public:
  Child(const std::string& program, const std::vector<std::string>& args, char* const* envp = environ) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.path().c_str(), O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_.path().c_str(), O_WRONLY | O_TRUNC, 0);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn " + program + " failed: " + std::to_string(rc));
  }
  ~Child() {
    if (pid_ > 0) {  // never waited for (a failed assertion): do not leave it running
      kill(pid_, SIGKILL);
      (void)wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // What it wrote to stderr so far.
  [[nodiscard]] std::string err_so_far() const { return err_.read(); }

  RunResult wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0)
      if (errno != EINTR) throw std::runtime_error("waitpid failed");
    pid_ = 0;
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = out_.read();
    r.err = err_.read();
    return r;
  }

 private:
  detail::TempFile out_, err_;
  pid_t pid_ = 0;
};

// Runs `program args...` with stdin from /dev/null and the environment
// `envp` (the parent's by default) and waits for it.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                             char* const* envp = environ) {
  return Child(program, args, envp).wait();
}

}  // namespace hvo::testing
