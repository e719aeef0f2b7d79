#include "deputy/auth/base64url.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace deputy::auth {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}

constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.resize((bytes.size() * 4 + 2) / 3);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  std::size_t o = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest == 1) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool base64url_decode_append(std::string_view text, std::string& out) {
  // 4k+1 characters carry 6 bits past a whole byte: no byte string encodes to that.
  if (text.size() % 4 == 1) return false;
  const std::size_t start = out.size();
  out.resize(start + text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1));
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t o = start;
  std::size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const std::uint32_t a = kDecode[in[i]];
    const std::uint32_t b = kDecode[in[i + 1]];
    const std::uint32_t c = kDecode[in[i + 2]];
    const std::uint32_t d = kDecode[in[i + 3]];
    if (((a | b | c | d) & 0xc0) != 0) {  // kInvalid has the high bits set; sextets never do
      out.resize(start);
      return false;
    }
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = static_cast<char>(v >> 16);
    out[o++] = static_cast<char>(v >> 8);
    out[o++] = static_cast<char>(v);
  }
  const std::size_t rest = text.size() - i;
  if (rest == 0) return true;
  std::uint32_t v = 0;
  for (std::size_t k = 0; k < rest; ++k) {
    const std::uint32_t sextet = kDecode[in[i + k]];
    if (sextet == kInvalid) {
      out.resize(start);
      return false;
    }
    v |= sextet << (18 - 6 * k);
  }
  // The bits past the last whole byte must be zero: otherwise "AB" and "AC" would both decode to the same
  // byte and one token would have two spellings.
  const std::uint32_t unused = rest == 2 ? (v & 0x00ffff) : (v & 0x0000ff);
  if (unused != 0) {
    out.resize(start);
    return false;
  }
  out[o++] = static_cast<char>(v >> 16);
  if (rest == 3) out[o++] = static_cast<char>(v >> 8);
  return true;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  if (!base64url_decode_append(text, out)) return std::nullopt;
  return out;
}

}  // namespace deputy::auth
