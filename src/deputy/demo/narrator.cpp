#include "deputy/demo/narrator.hpp"

#include <fmt/format.h>

namespace deputy::demo {

namespace {

constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDim = "\033[2m";
constexpr std::string_view kGreen = "\033[32m";
constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kReset = "\033[0m";

}  // namespace

std::string Narrator::paint(std::string_view style, std::string_view text) const {
  if (!color_ || style.empty()) return std::string(text);
  return fmt::format("{}{}{}", style, text, kReset);
}

void Narrator::indented(std::string_view prefix, std::string_view text, std::string_view style) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    std::fprintf(out_, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(),
                 paint(style, line).c_str());
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  std::fflush(out_);
}

void Narrator::step(std::string_view title) {
  ++step_;
  title_ = std::string(title);
  std::fprintf(out_, "\n%s\n", paint(kBold, fmt::format("{}. {}", step_, title)).c_str());
  std::fflush(out_);
}

bool Narrator::check(bool ok, std::string_view what) {
  const std::string mark = ok ? paint(kGreen, "✓") : paint(kRed, "✗");
  std::fprintf(out_, "  %s %.*s\n", mark.c_str(), static_cast<int>(what.size()), what.data());
  std::fflush(out_);
  if (!ok) failures_.push_back(fmt::format("step {} ({}): {}", step_, title_, what));
  return ok;
}

void Narrator::note(std::string_view text) {
  indented("    ", text, kDim);
}

void Narrator::text(std::string_view text) {
  indented("  ", text, {});
}

}  // namespace deputy::demo
