#include "table/key_codec.h"

#include <cstring>

#include "common/decimal.h"
#include "table/item_codec.h"

namespace salespipe::table {

// Persisted: item and index keys in RocksDB are built from these parts. Never change the
// encoding of an existing type.
//
//   S, B  the bytes, each 0x00 written as 0x00 0xFF, then the terminator 0x00 0x01.
//         A 0x00 in the output is always followed by 0xFF (data) or 0x01 (end), so the end is
//         unambiguous. Order: where two strings first differ, a data 0x00 (0x00 0xFF) sorts
//         below any other byte just as 0x00 does in the raw bytes; where one string is a
//         prefix of the other, its terminator 0x00 0x01 sorts below the other's next byte
//         (0x01..0xFF, or 0x00 0xFF), so the shorter string comes first.
//   N     Decimal::AppendOrderedKey (see common/decimal.cc): sign, exponent and digit pairs,
//         self-delimiting and in numeric order.
//
// Because every part is self-delimiting and no part is a proper prefix of another part of the
// same type, the bytewise order of (hash part + range part) is the order of the pairs.
namespace {

constexpr char kEscape = '\xFF';  // follows a data 0x00
constexpr char kEnd = '\x01';     // follows the terminating 0x00

Status CorruptKey() { return Status::Internal("corrupt key"); }

void AppendEscaped(std::string_view bytes, std::string* out) {
  out->reserve(out->size() + bytes.size() + 2);
  while (!bytes.empty()) {
    const void* zero = std::memchr(bytes.data(), 0, bytes.size());
    if (zero == nullptr) break;
    const size_t n = static_cast<const char*>(zero) - bytes.data();
    out->append(bytes.data(), n + 1);  // including the 0x00
    out->push_back(kEscape);
    bytes.remove_prefix(n + 1);
  }
  out->append(bytes);
  out->push_back('\0');
  out->push_back(kEnd);
}

bool ConsumeEscaped(std::string_view* in, std::string* out) {
  std::string_view s = *in;
  size_t pos = 0;
  while (true) {
    if (pos >= s.size()) return false;  // no terminator
    const void* zero = std::memchr(s.data() + pos, 0, s.size() - pos);
    if (zero == nullptr) return false;
    const size_t at = static_cast<const char*>(zero) - s.data();
    if (at + 1 >= s.size()) return false;
    out->append(s.data() + pos, at - pos);
    if (s[at + 1] == kEnd) {
      in->remove_prefix(at + 2);
      return true;
    }
    if (s[at + 1] != kEscape) return false;
    out->push_back('\0');
    pos = at + 2;
  }
}

}  // namespace

void AppendKeyPart(const AttributeValue& value, std::string* out) {
  switch (value.type()) {
    case AttributeType::kString:
    case AttributeType::kBinary:
      AppendEscaped(value.scalar(), out);
      return;
    case AttributeType::kNumber: {
      Result<Decimal> number = Decimal::Parse(value.scalar());
      if (number.ok()) {
        number->AppendOrderedKey(out);
      } else {
        AppendEscaped(value.scalar(), out);  // broken REQUIRES; see the header
      }
      return;
    }
    default: {
      // A broken REQUIRES (see the header). Aborting would let one bad request take the
      // server down, so encode the whole value, type tag included, as an escaped string.
      std::string bytes;
      EncodeValue(value, &bytes);
      AppendEscaped(bytes, out);
      return;
    }
  }
}

Result<AttributeValue> ConsumeKeyPart(AttributeType type, std::string_view* in) {
  switch (type) {
    case AttributeType::kString:
    case AttributeType::kBinary: {
      std::string bytes;
      std::string_view rest = *in;
      if (!ConsumeEscaped(&rest, &bytes)) return CorruptKey();
      *in = rest;
      return type == AttributeType::kString ? AttributeValue::String(std::move(bytes))
                                            : AttributeValue::Binary(std::move(bytes));
    }
    case AttributeType::kNumber: {
      std::string_view rest = *in;
      Result<Decimal> number = Decimal::ConsumeOrderedKey(&rest);
      if (!number.ok()) return CorruptKey();
      *in = rest;
      return AttributeValue::Number(number->ToString());
    }
    default:
      return Status::InvalidArgument("key attributes must be of type S, N or B, not " +
                                     std::string(TypeName(type)));
  }
}

}  // namespace salespipe::table
