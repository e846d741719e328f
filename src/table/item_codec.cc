#include "table/item_codec.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <tuple>
#include <utility>
#include <vector>

namespace salespipe::table {

// Persisted: the value of every item in RocksDB. Change only by adding a new version byte and
// keeping a decoder for the old ones.
//
//   item    := 0x01 (format version) count entry*          entries by name, strictly ascending
//   entry   := varint(name length) name value
//   value   := tag payload                                 tag = AttributeType (one byte)
//     NULL      no payload
//     BOOL      one byte, 0x00 or 0x01
//     S, N, B   varint(length) bytes                       N holds canonical decimal text
//     SS,NS,BS  count { varint(length) bytes }*            members ascending, unique
//     L         count value*
//     M         count entry*                               names strictly ascending
//   count   := varint
//   varint  := unsigned LEB128: 7 bits a byte, low bits first, high bit set on all but the
//              last byte; at most 10 bytes.
//
// Numbers stay text: AttributeValue holds them as text, so storing them any other way would
// cost a conversion on every read and write.
namespace {

constexpr char kFormatVersion = 0x01;
constexpr size_t kMaxVarintBytes = 10;

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(uint64_t v, std::string* out) {
  char buffer[kMaxVarintBytes];
  size_t n = 0;
  while (v >= 0x80) {
    buffer[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buffer[n++] = static_cast<char>(v);
  out->append(buffer, n);
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

size_t EncodedSize(const AttributeValue& value);

size_t EncodedMapSize(const AttributeMap& map) {
  size_t n = VarintLength(map.size());
  for (const auto& [name, value] : map) {
    n += VarintLength(name.size()) + name.size() + EncodedSize(value);
  }
  return n;
}

size_t EncodedSize(const AttributeValue& value) {
  size_t n = 1;  // tag
  switch (value.type()) {
    case AttributeType::kNull:
      break;
    case AttributeType::kBool:
      n += 1;
      break;
    case AttributeType::kString:
    case AttributeType::kNumber:
    case AttributeType::kBinary:
      n += VarintLength(value.scalar().size()) + value.scalar().size();
      break;
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet:
      n += VarintLength(value.set().size());
      for (const std::string& member : value.set())
        n += VarintLength(member.size()) + member.size();
      break;
    case AttributeType::kList:
      n += VarintLength(value.list().size());
      for (const AttributeValue& element : value.list()) n += EncodedSize(element);
      break;
    case AttributeType::kMap:
      n += EncodedMapSize(value.map());
      break;
  }
  return n;
}

void EncodeMap(const AttributeMap& map, std::string* out) {
  PutVarint(map.size(), out);
  for (const auto& [name, value] : map) {
    PutBytes(name, out);
    EncodeValue(value, out);
  }
}

// Decoding works on bool-returning helpers (false = corrupt) so that the hot path carries no
// Status objects; the public functions turn false into the one error.
Status Corrupt() { return Status::Internal("corrupt item"); }

bool GetVarint(std::string_view* in, uint64_t* v) {
  if (!in->empty() && static_cast<unsigned char>((*in)[0]) < 0x80) {  // the common case
    *v = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    return true;
  }
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintBytes && i < in->size(); ++i) {
    const auto byte = static_cast<unsigned char>((*in)[i]);
    if (i == kMaxVarintBytes - 1 && byte > 1) return false;  // more than 64 bits
    result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string_view* bytes) {
  uint64_t length;
  if (!GetVarint(in, &length) || length > in->size()) return false;
  *bytes = in->substr(0, length);
  in->remove_prefix(length);
  return true;
}

// Reads an element count. Every element takes at least `min_bytes` bytes, which bounds the
// count by the input left, so garbage cannot make us reserve huge amounts of memory.
bool GetCount(std::string_view* in, size_t min_bytes, size_t* count) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size() / min_bytes) return false;
  *count = static_cast<size_t>(n);
  return true;
}

bool DecodeValueInto(std::string_view* in, int depth, AttributeValue* out);

bool DecodeMapInto(std::string_view* in, int depth, AttributeMap* map) {
  size_t count;
  if (!GetCount(in, /*min_bytes=*/2, &count)) return false;
  for (size_t i = 0; i < count; ++i) {
    std::string_view name;
    if (!GetBytes(in, &name)) return false;
    // Names were written in map order, so each one goes at the end; anything else is corrupt.
    if (!map->empty() && !(std::prev(map->end())->first < name)) return false;
    auto it = map->emplace_hint(map->end(), std::piecewise_construct, std::forward_as_tuple(name),
                                std::forward_as_tuple());
    if (!DecodeValueInto(in, depth, &it->second)) return false;
  }
  return true;
}

bool DecodeValueInto(std::string_view* in, int depth, AttributeValue* out) {
  if (in->empty()) return false;
  const auto tag = static_cast<unsigned char>((*in)[0]);
  in->remove_prefix(1);
  switch (tag) {
    case static_cast<unsigned char>(AttributeType::kNull):
      *out = AttributeValue::Null();
      return true;
    case static_cast<unsigned char>(AttributeType::kBool): {
      if (in->empty()) return false;
      const auto b = static_cast<unsigned char>((*in)[0]);
      if (b > 1) return false;
      in->remove_prefix(1);
      *out = AttributeValue::Bool(b == 1);
      return true;
    }
    case static_cast<unsigned char>(AttributeType::kString):
    case static_cast<unsigned char>(AttributeType::kNumber):
    case static_cast<unsigned char>(AttributeType::kBinary): {
      std::string_view bytes;
      if (!GetBytes(in, &bytes)) return false;
      std::string scalar(bytes);
      switch (static_cast<AttributeType>(tag)) {
        case AttributeType::kString:
          *out = AttributeValue::String(std::move(scalar));
          break;
        case AttributeType::kNumber:
          *out = AttributeValue::Number(std::move(scalar));
          break;
        default:
          *out = AttributeValue::Binary(std::move(scalar));
          break;
      }
      return true;
    }
    case static_cast<unsigned char>(AttributeType::kStringSet):
    case static_cast<unsigned char>(AttributeType::kNumberSet):
    case static_cast<unsigned char>(AttributeType::kBinarySet): {
      size_t count;
      if (!GetCount(in, /*min_bytes=*/1, &count)) return false;
      *out = AttributeValue::Set(static_cast<AttributeType>(tag), {});
      std::vector<std::string>& members = out->mutable_set();
      members.reserve(count);
      bool ascending = true;
      for (size_t i = 0; i < count; ++i) {
        std::string_view member;
        if (!GetBytes(in, &member)) return false;
        if (!members.empty() && !(std::string_view(members.back()) < member)) ascending = false;
        members.emplace_back(member);
      }
      // The encoder writes sets as AttributeValue keeps them, sorted and unique. Should a set
      // have been built out of order through mutable_set(), restore the invariant rather
      // than lose the item.
      if (!ascending) {
        std::sort(members.begin(), members.end());
        members.erase(std::unique(members.begin(), members.end()), members.end());
      }
      return true;
    }
    case static_cast<unsigned char>(AttributeType::kList): {
      if (depth >= kMaxDecodeDepth) return false;
      size_t count;
      if (!GetCount(in, /*min_bytes=*/1, &count)) return false;
      *out = AttributeValue::List({});
      std::vector<AttributeValue>& list = out->mutable_list();
      list.resize(count);
      for (AttributeValue& element : list) {
        if (!DecodeValueInto(in, depth + 1, &element)) return false;
      }
      return true;
    }
    case static_cast<unsigned char>(AttributeType::kMap):
      if (depth >= kMaxDecodeDepth) return false;
      *out = AttributeValue::Map({});
      return DecodeMapInto(in, depth + 1, &out->mutable_map());
    default:
      return false;  // unknown tag
  }
}

bool VisitValueInto(std::string_view* in, int depth, EncodedValueVisitor& visitor) {
  if (in->empty()) return false;
  const auto tag = static_cast<unsigned char>((*in)[0]);
  in->remove_prefix(1);
  const auto type = static_cast<AttributeType>(tag);
  switch (type) {
    case AttributeType::kNull:
      visitor.Null();
      return true;
    case AttributeType::kBool: {
      if (in->empty() || static_cast<unsigned char>((*in)[0]) > 1) return false;
      visitor.Bool((*in)[0] == 1);
      in->remove_prefix(1);
      return true;
    }
    case AttributeType::kString:
    case AttributeType::kNumber:
    case AttributeType::kBinary: {
      std::string_view bytes;
      if (!GetBytes(in, &bytes)) return false;
      visitor.Scalar(type, bytes);
      return true;
    }
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet: {
      size_t count;
      if (!GetCount(in, /*min_bytes=*/1, &count)) return false;
      visitor.BeginSet(type);
      for (size_t i = 0; i < count; ++i) {
        std::string_view member;
        if (!GetBytes(in, &member)) return false;
        visitor.SetMember(member);
      }
      visitor.EndSet();
      return true;
    }
    case AttributeType::kList: {
      size_t count;
      if (depth >= kMaxDecodeDepth || !GetCount(in, /*min_bytes=*/1, &count)) return false;
      visitor.BeginList();
      for (size_t i = 0; i < count; ++i) {
        if (!VisitValueInto(in, depth + 1, visitor)) return false;
      }
      visitor.EndList();
      return true;
    }
    case AttributeType::kMap: {
      size_t count;
      if (depth >= kMaxDecodeDepth || !GetCount(in, /*min_bytes=*/2, &count)) return false;
      visitor.BeginMap();
      for (size_t i = 0; i < count; ++i) {
        std::string_view name;
        if (!GetBytes(in, &name)) return false;
        visitor.Key(name);
        if (!VisitValueInto(in, depth + 1, visitor)) return false;
      }
      visitor.EndMap();
      return true;
    }
  }
  return false;  // unknown tag
}

// Skips one value (for SplitItem): a visitor that ignores everything.
class SkipVisitor final : public EncodedValueVisitor {
 public:
  void Null() override {}
  void Bool(bool) override {}
  void Scalar(AttributeType, std::string_view) override {}
  void BeginSet(AttributeType) override {}
  void SetMember(std::string_view) override {}
  void EndSet() override {}
  void BeginList() override {}
  void EndList() override {}
  void BeginMap() override {}
  void Key(std::string_view) override {}
  void EndMap() override {}
};

}  // namespace

void EncodeValue(const AttributeValue& value, std::string* out) {
  out->push_back(static_cast<char>(value.type()));
  switch (value.type()) {
    case AttributeType::kNull:
      return;
    case AttributeType::kBool:
      out->push_back(value.boolean() ? 1 : 0);
      return;
    case AttributeType::kString:
    case AttributeType::kNumber:
    case AttributeType::kBinary:
      PutBytes(value.scalar(), out);
      return;
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet:
      PutVarint(value.set().size(), out);
      for (const std::string& member : value.set()) PutBytes(member, out);
      return;
    case AttributeType::kList:
      PutVarint(value.list().size(), out);
      for (const AttributeValue& element : value.list()) EncodeValue(element, out);
      return;
    case AttributeType::kMap:
      EncodeMap(value.map(), out);
      return;
  }
}

std::string EncodeItem(const Item& item) {
  std::string out;
  EncodeItem(item, &out);
  return out;
}

void EncodeItem(const Item& item, std::string* out) {
  // Sizing first costs one cheap walk and saves every reallocation and copy of the buffer.
  out->reserve(out->size() + 1 + EncodedMapSize(item));
  out->push_back(kFormatVersion);
  EncodeMap(item, out);
}

Result<Item> DecodeItem(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != kFormatVersion) return Corrupt();
  bytes.remove_prefix(1);
  Item item;
  if (!DecodeMapInto(&bytes, /*depth=*/0, &item) || !bytes.empty()) return Corrupt();
  return item;
}

Status VisitValue(std::string_view* in, EncodedValueVisitor& visitor) {
  if (!VisitValueInto(in, /*depth=*/0, visitor)) return Corrupt();
  return Status::Ok();
}

Result<std::vector<EncodedEntry>> SplitItem(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != kFormatVersion) return Corrupt();
  bytes.remove_prefix(1);
  size_t count;
  if (!GetCount(&bytes, /*min_bytes=*/2, &count)) return Corrupt();
  std::vector<EncodedEntry> entries;
  entries.reserve(count);
  SkipVisitor skip;
  for (size_t i = 0; i < count; ++i) {
    EncodedEntry entry;
    if (!GetBytes(&bytes, &entry.name)) return Corrupt();
    if (!entries.empty() && !(entries.back().name < entry.name)) return Corrupt();
    const char* start = bytes.data();
    if (!VisitValueInto(&bytes, /*depth=*/0, skip)) return Corrupt();
    entry.value = std::string_view(start, static_cast<size_t>(bytes.data() - start));
    entries.push_back(entry);
  }
  if (!bytes.empty()) return Corrupt();
  return entries;
}

void JoinItem(const std::vector<EncodedEntry>& entries, std::string* out) {
  out->push_back(kFormatVersion);
  PutVarint(entries.size(), out);
  for (const EncodedEntry& entry : entries) {
    PutBytes(entry.name, out);
    out->append(entry.value);
  }
}

Result<AttributeValue> DecodeValue(std::string_view* in) {
  AttributeValue value;
  if (!DecodeValueInto(in, /*depth=*/0, &value)) return Corrupt();
  return value;
}

}  // namespace salespipe::table
