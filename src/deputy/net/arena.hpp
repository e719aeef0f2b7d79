#pragma once
// A per-connection bump allocator: a request's header fields and body are allocated from one block and
// all freed at once before the next request, so reading a typical request costs no call to malloc.

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace deputy::net {

class Arena {
 public:
  /// `block` bytes are taken from the heap on first use and kept; larger needs get blocks of their own,
  /// returned to the heap at the next reset().
  explicit Arena(std::size_t block) : block_size_(block) {}

  void* allocate(std::size_t bytes, std::size_t alignment) {
    std::size_t at = (used_ + alignment - 1) & ~(alignment - 1);
    if (!block_) block_ = std::make_unique<std::byte[]>(block_size_);
    if (at + bytes <= block_size_) {
      used_ = at + bytes;
      return block_.get() + at;
    }
    overflow_.push_back(std::make_unique<std::byte[]>(bytes + alignment));
    void* p = overflow_.back().get();
    std::size_t space = bytes + alignment;
    return std::align(alignment, bytes, p, space);
  }

  void reset() {
    used_ = 0;
    overflow_.clear();
  }

 private:
  const std::size_t block_size_;
  std::unique_ptr<std::byte[]> block_;
  std::size_t used_ = 0;
  std::vector<std::unique_ptr<std::byte[]>> overflow_;
};

/// A standard allocator over an Arena; deallocation waits for the arena's reset.
template <typename T>
class ArenaAllocator {
 public:
  using value_type = T;
  explicit ArenaAllocator(Arena& arena) noexcept : arena_(&arena) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) { return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T*, std::size_t) noexcept {}
  [[nodiscard]] Arena* arena() const noexcept { return arena_; }

  template <typename U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  Arena* arena_;
};

}  // namespace deputy::net
