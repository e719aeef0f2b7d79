#include "deputy/audit/sink.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace deputy::audit {

namespace {

/// How long one write to a full pipe waits for room before it returns EAGAIN to the trail (which retries).
constexpr int kPollMilliseconds = 1000;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

/// Writes all of `data`, across short writes and EINTR; on error, says how much went.
std::expected<void, WriteError> write_all(int fd, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {  // a non-blocking stdout: wait for room, once
      pollfd poll_fd{.fd = fd, .events = POLLOUT, .revents = 0};
      if (::poll(&poll_fd, 1, kPollMilliseconds) > 0) continue;
      return std::unexpected(WriteError{
          .code = std::make_error_code(std::errc::resource_unavailable_try_again), .written = done});
    }
    const auto code = n < 0 ? last_error() : std::make_error_code(std::errc::io_error);
    return std::unexpected(WriteError{.code = code, .written = done});
  }
  return {};
}

std::expected<void, std::error_code> sync_fd(int fd) {
  while (::fdatasync(fd) != 0) {
    if (errno == EINTR) continue;
    // Pipes, terminals and some special files cannot be synced: there is nothing to make durable.
    if (errno == EINVAL || errno == EROFS || errno == EOPNOTSUPP) return {};
    return std::unexpected(last_error());
  }
  return {};
}

class StdoutSink final : public Sink {
 public:
  std::expected<void, WriteError> write(std::string_view lines) override {
    return write_all(STDOUT_FILENO, lines);
  }
  std::expected<void, std::error_code> sync() override { return sync_fd(STDOUT_FILENO); }
  std::string describe() const override { return "stdout"; }
};

int open_append(const std::filesystem::path& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class FileSink final : public Sink {
 public:
  FileSink(FileSinkOptions options, int fd, std::uint64_t size)
      : options_(std::move(options)), fd_(fd), size_(size) {}
  ~FileSink() override { ::close(fd_); }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  std::expected<void, WriteError> write(std::string_view lines) override {
    std::size_t done = 0;
    while (done < lines.size()) {
      const std::string_view rest = lines.substr(done);
      std::size_t chunk = rest.size();
      if (options_.max_bytes != 0 && mid_line_) {
        // A line that a failed write cut is finished in the same file (a line never spans two files);
        // the lines after it are measured again.
        const std::size_t end = rest.find('\n');
        chunk = end == std::string_view::npos ? rest.size() : end + 1;
      } else if (options_.max_bytes != 0) {
        std::size_t fit = 0;  // whole lines of `rest` that still fit in this file
        while (fit < rest.size()) {
          const std::size_t end = rest.find('\n', fit);
          const std::size_t next = end == std::string_view::npos ? rest.size() : end + 1;
          if (size_ + next > options_.max_bytes) break;
          fit = next;
        }
        if (fit == 0 && size_ > 0) {
          if (rotate()) continue;  // measure again against the new, empty file
          fit = rest.size();       // rotation failed (and was reported): write on rather than lose lines
        }
        if (fit == 0) {  // an empty file and a line longer than max_bytes: it gets the file to itself
          const std::size_t end = rest.find('\n');
          fit = end == std::string_view::npos ? rest.size() : end + 1;
        }
        chunk = fit;
      }
      const std::string_view piece = rest.substr(0, chunk);
      auto written = write_all(fd_, piece);
      const std::size_t count = written ? piece.size() : written.error().written;
      size_ += count;
      done += count;
      if (count > 0) mid_line_ = piece[count - 1] != '\n';
      if (!written) return std::unexpected(WriteError{.code = written.error().code, .written = done});
    }
    return {};
  }

  std::expected<void, std::error_code> sync() override { return sync_fd(fd_); }

  std::string describe() const override { return "file " + options_.path.string(); }

 private:
  std::filesystem::path numbered(int n) const {
    auto path = options_.path;
    path += "." + std::to_string(n);
    return path;
  }

  /// path → path.1, after shifting path.1 → path.2 … (path.keep is replaced), then a new path. On
  /// failure the current file stays open and is written on; the next write tries again.
  bool rotate() {
    // The file being retired must be complete on disk whatever the fsync policy: nobody syncs it later.
    (void)sync_fd(fd_);
    std::error_code error;
    for (int n = options_.keep - 1; n >= 1 && !error; --n) {
      if (::rename(numbered(n).c_str(), numbered(n + 1).c_str()) != 0 && errno != ENOENT)
        error = last_error();
    }
    // ENOENT: an earlier attempt renamed path but could not open a new one; we are writing to path.1.
    if (!error && ::rename(options_.path.c_str(), numbered(1).c_str()) != 0 && errno != ENOENT)
      error = last_error();
    int fd = -1;
    if (!error) {
      fd = open_append(options_.path);
      if (fd < 0) error = last_error();
    }
    if (error) {
      if (!rotation_failing_) {
        spdlog::error("audit: rotating {} failed ({}); writing on to the current file",
                      options_.path.string(), error.message());
      }
      rotation_failing_ = true;
      return false;
    }
    if (rotation_failing_) spdlog::info("audit: rotating {} works again", options_.path.string());
    rotation_failing_ = false;
    ::close(fd_);
    fd_ = fd;
    size_ = 0;
    // Make the renames and the new file durable too (best effort: a directory that cannot be synced is
    // no reason to stop writing).
    const auto directory = options_.path.has_parent_path() ? options_.path.parent_path() : ".";
    if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
    return true;
  }

  FileSinkOptions options_;
  int fd_;
  std::uint64_t size_;
  bool mid_line_ = false;
  bool rotation_failing_ = false;
};

}  // namespace

std::unique_ptr<Sink> stdout_sink() {
  return std::make_unique<StdoutSink>();
}

std::expected<std::unique_ptr<Sink>, std::error_code> open_file_sink(FileSinkOptions options) {
  if (options.path.empty() || options.keep < 1 || options.keep > kMaxKeepFiles) {
    return std::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  const int fd = open_append(options.path);
  if (fd < 0) return std::unexpected(last_error());
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const auto error = last_error();
    ::close(fd);
    return std::unexpected(error);
  }
  std::unique_ptr<Sink> sink =
      std::make_unique<FileSink>(std::move(options), fd, static_cast<std::uint64_t>(info.st_size));
  return sink;
}

}  // namespace deputy::audit
