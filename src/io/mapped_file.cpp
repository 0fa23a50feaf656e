#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace hearth::io {
namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail_open(const std::string& path, int err) {
  fail("cannot open {}: {}", path, std::strerror(err));
}

}  // namespace

MappedFile MappedFile::open(const std::string& path) {
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) fail_open(path, errno);
  struct stat st {};
  if (::fstat(guard.fd, &st) != 0) fail_open(path, errno);
  if (S_ISDIR(st.st_mode)) fail_open(path, EISDIR);
  if (!S_ISREG(st.st_mode)) fail("cannot open {}: not a regular file", path);

  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<uint64_t>(st.st_size);
  if (file.size_ == 0) return file;  // mmap rejects a length of 0
  void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, guard.fd, 0);
  if (p == MAP_FAILED) fail("cannot map {} into memory: {}", path, std::strerror(errno));
  file.mapping_ = p;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  size_ = 0;
}

const uint8_t* MappedFile::data() const {
  static const uint8_t kEmpty = 0;
  return mapping_ != nullptr ? static_cast<const uint8_t*>(mapping_) : &kEmpty;
}

}  // namespace hearth::io
