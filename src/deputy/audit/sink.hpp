#pragma once
// Where audit lines go: standard output or an append-only file with size-based rotation. The trail
// (trail.hpp) owns its sinks and calls them from its one writer thread only, so a sink needs no locking.
// The interface is public so tests (and, later, other destinations) can provide their own.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace deputy::audit {

/// A rotated file is renamed once it holds this much: big enough for a day of a busy server, small enough
/// to open in an editor.
inline constexpr std::uint64_t kDefaultMaxFileBytes = 64ULL * 1024 * 1024;
/// Rotated files kept beside the current one (path.1 … path.N); the oldest is replaced.
inline constexpr int kDefaultKeepFiles = 5;
/// At most this many rotated files: the shifting renames one file per kept file, under the writer.
inline constexpr int kMaxKeepFiles = 1000;

struct WriteError {
  std::error_code code;
  std::size_t written = 0;  // bytes of the batch written before the error; the caller retries the rest
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Appends `lines` (whole '\n'-terminated lines). Either all of it is written, or an error says how much
  /// was; a retry passes the rest.
  [[nodiscard]] virtual std::expected<void, WriteError> write(std::string_view lines) = 0;
  /// Makes what was written durable (fdatasync). Sinks where that means nothing (a pipe, a terminal)
  /// succeed.
  [[nodiscard]] virtual std::expected<void, std::error_code> sync() = 0;
  /// For log messages: "stdout", "file /var/log/deputy/audit.log".
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Standard output. Not with the stdio transport: stdout carries its JSON-RPC messages.
[[nodiscard]] std::unique_ptr<Sink> stdout_sink();

struct FileSinkOptions {
  std::filesystem::path path;
  /// Rotate before a write would take the file past this (0: never rotate). Lines are never split: a file
  /// ends with a whole line, and a single line longer than max_bytes gets a file of its own.
  std::uint64_t max_bytes = kDefaultMaxFileBytes;
  /// Rotated files kept: path.1 (newest) … path.keep (oldest), 1 to kMaxKeepFiles.
  int keep = kDefaultKeepFiles;
};

/// Opens (O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, mode 0600: records name users) or fails at once, so a server
/// whose audit file cannot be written does not start. On rotation the current file is fdatasync'ed, the
/// rotated files shift by one (path.1 → path.2 …), path becomes path.1 and a new path is opened.
[[nodiscard]] std::expected<std::unique_ptr<Sink>, std::error_code> open_file_sink(FileSinkOptions options);

}  // namespace deputy::audit
