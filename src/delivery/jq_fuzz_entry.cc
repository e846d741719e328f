#include "delivery/jq_fuzz_entry.h"

#include <string_view>

#include "delivery/jq.h"

namespace salespipe::delivery {

int FuzzJq(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view query = input.substr(0, nul);
  std::string_view record = nul == std::string_view::npos ? "{}" : input.substr(nul + 1);
  Result<JqQuery> parsed = JqQuery::Parse(query);
  if (!parsed.ok()) return 0;
  parsed->Evaluate(record).status().IgnoreError();  // errors are expected; crashes are not
  parsed->Evaluate(R"({"a":{"b":[1,"x",{"c":true}]},"k":"v","n":null})").status().IgnoreError();
  (void)parsed->keys();
  return 0;
}

}  // namespace salespipe::delivery
