// Runs the real `hearth serve` for integration tests: on a free loopback port (--port 0; the
// port is read from the "listening on" line), waits until /health says ready, and stops it
// with a signal, returning the exit status. Plus curl and node helpers to talk to it.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/run_command.h"

extern char** environ;

namespace hearth::test {

inline const std::string kHearth = HEARTH_BINARY;
inline const std::string kStories = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";

struct CurlResult {
  int status = 0;       // HTTP status (0: no response)
  std::string headers;  // the response header block
  std::string body;
  std::string err;
};

// curl with `args` (already shell-quoted); the body is read from `body` when not empty.
inline CurlResult curl(const std::string& args, const std::string& body = "") {
  TempDir dir;
  std::string cmd = "curl -sS --max-time 60 -D " + dir / "headers" + " -o " + dir / "body" +
                    " -w '%{http_code}' ";
  if (!body.empty()) {
    std::ofstream(dir / "request", std::ios::binary) << body;
    cmd += "-H 'Content-Type: application/json' --data-binary @" + dir / "request" + " ";
  }
  const CommandResult r = run_command(cmd + args);
  CurlResult c;
  c.status = std::atoi(r.out.c_str());
  c.headers = slurp(dir / "headers");
  c.body = slurp(dir / "body");
  c.err = r.err;
  return c;
}

class ServeProcess {
 public:
  // extra: more `hearth serve` options, shell-quoted.
  explicit ServeProcess(const std::string& extra = "", const std::string& model = kStories) {
    log_path_ = log_dir_ / "serve.log";
    const std::string cmd = "exec " + kHearth + " serve -m " + model + " --port 0 " + extra +
                            " 2>" + log_path_;
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", &fa, nullptr, const_cast<char**>(argv), environ) != 0)
      throw std::runtime_error("cannot start " + kHearth);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    stdout_fd_ = out[0];
    port_ = read_port();
    if (port_ > 0) wait_ready();
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }

  int port() const { return port_; }
  bool ready() const { return ready_; }  // /health answered 200
  pid_t pid() const { return pid_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string log() const { return slurp(log_path_); }

  // Sends `sig` and waits up to `timeout` for the exit; the exit status, or -1 on timeout
  // (the process is then killed).
  int stop(int sig = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    kill(pid_, sig);
    const auto until = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  // The value of one /metrics series (e.g. "hearth_kv_blocks_used"); -1 when absent.
  double metric(const std::string& series) const {
    const CurlResult r = curl("'" + url("/metrics") + "'");
    const std::string key = "\n" + series + " ";
    const size_t at = r.body.find(key);
    return at == std::string::npos ? -1 : std::stod(r.body.substr(at + key.size()));
  }

 private:
  // The "listening on http://HOST:PORT" line, within 10 s.
  int read_port() {
    std::string text;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      const ssize_t n = read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      const size_t nl = text.find('\n');
      if (nl == std::string::npos) continue;
      const size_t colon = text.rfind(':', nl);
      return colon == std::string::npos ? 0 : std::atoi(text.c_str() + colon + 1);
    }
    return 0;
  }

  void wait_ready() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      if (curl("'" + url("/health") + "'").status == 200) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  TempDir log_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  bool ready_ = false;
};

}  // namespace hearth::test
