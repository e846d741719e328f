#include "http/request_id.h"

#include <cstdint>
#include <random>

namespace salespipe::http {
namespace {

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, good statistical quality.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;
    for (uint64_t& word : s_) {
      word = (static_cast<uint64_t>(device()) << 32) ^ device();
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // the all-zero state is a fixed point
  }

  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace

void NewRequestId(std::string* out) {
  thread_local Xoshiro256 rng;
  uint64_t hi = rng.Next();
  uint64_t lo = rng.Next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  out->resize(36);
  char* p = out->data();
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) *p++ = '-';
    uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    *p++ = kHex[(word >> shift) & 0xF];
  }
}

}  // namespace salespipe::http

namespace salespipe::http {

void ToS3RequestId(std::string* id) {
  std::string out;
  out.reserve(16);
  for (char c : *id) {
    if (c == '-') continue;
    out.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c);
    if (out.size() == 16) break;
  }
  *id = std::move(out);
}

}  // namespace salespipe::http
