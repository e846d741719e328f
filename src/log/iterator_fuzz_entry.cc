#include "log/iterator_fuzz_entry.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>

#include "log/shard_log.h"

namespace salespipe::log {

int FuzzIterator(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kNow = 1'700'000'000'000;
  auto decoded = DecodeIterator(input, kNow, std::chrono::minutes(5));
  if (decoded.ok()) {
    // Canonical: the only tokens that decode are the ones EncodeIterator writes.
    if (EncodeIterator(*decoded) != input) std::abort();
  }
  // A valid token whose fields come from the input, then one byte flipped.
  IteratorState state;
  uint64_t words[3] = {0, 0, 0};
  for (size_t i = 0; i < size && i < 24; ++i) words[i / 8] = (words[i / 8] << 8) | data[i];
  state.shard = {StreamId{words[0]}, static_cast<uint32_t>(words[1])};
  state.next = {words[2]};
  state.created_millis = kNow;
  std::string token = EncodeIterator(state);
  auto round_trip = DecodeIterator(token, kNow, std::chrono::minutes(5));
  if (!round_trip.ok() || round_trip->shard != state.shard || round_trip->next != state.next) {
    std::abort();
  }
  if (size > 0) {
    token[data[0] % token.size()] ^= static_cast<char>(size > 1 ? (data[1] | 1) : 1);
    DecodeIterator(token, kNow, std::chrono::minutes(5)).status().IgnoreError();
  }
  return 0;
}

}  // namespace salespipe::log
