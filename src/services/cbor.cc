#include "services/cbor.h"

#include <cmath>
#include <cstring>

#include "common/crypto.h"
#include "services/json.h"

namespace salespipe::services {
namespace {

constexpr int kMaxDepth = 64;

Status Malformed(std::string_view what) {
  return Status::InvalidArgument("Invalid CBOR: " + std::string(what))
      .WithAwsCode("SerializationException");
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  Status Value(JsonWriter& w, int depth) {
    if (depth > kMaxDepth) return Malformed("nesting too deep");
    if (pos_ >= in_.size()) return Malformed("truncated");
    const uint8_t initial = static_cast<uint8_t>(in_[pos_++]);
    const int major = initial >> 5;
    const int info = initial & 31;
    if (major == 7) return Simple(w, info);
    uint64_t n = 0;
    bool indefinite = false;
    if (info == 31) {
      if (major == 0 || major == 1 || major == 6) return Malformed("bad indefinite length");
      indefinite = true;
    } else {
      RETURN_IF_ERROR(Argument(info, &n));
    }
    switch (major) {
      case 0:
        w.Uint64(n);
        return Status::Ok();
      case 1:
        if (n > static_cast<uint64_t>(INT64_MAX)) {
          w.Double(-1.0 - static_cast<double>(n));
        } else {
          w.Int64(-1 - static_cast<int64_t>(n));
        }
        return Status::Ok();
      case 2:
      case 3: {
        std::string bytes;
        RETURN_IF_ERROR(Bytes(major, indefinite, n, &bytes));
        if (major == 2) {
          WriteString(w, Base64Encode(bytes));
        } else {
          WriteString(w, bytes);
        }
        return Status::Ok();
      }
      case 4: {
        w.StartArray();
        for (uint64_t i = 0; indefinite || i < n; ++i) {
          if (indefinite && AtBreak()) break;
          RETURN_IF_ERROR(Value(w, depth + 1));
        }
        w.EndArray();
        return Status::Ok();
      }
      case 5: {
        w.StartObject();
        for (uint64_t i = 0; indefinite || i < n; ++i) {
          if (indefinite && AtBreak()) break;
          RETURN_IF_ERROR(Key(w));
          RETURN_IF_ERROR(Value(w, depth + 1));
        }
        w.EndObject();
        return Status::Ok();
      }
      case 6: {
        if (n == 1 && pos_ < in_.size()) {
          // Epoch time: an integer is milliseconds (AWS Java SDK), a float seconds.
          const uint8_t next = static_cast<uint8_t>(in_[pos_]);
          if ((next >> 5) == 0) {
            ++pos_;
            uint64_t millis = 0;
            RETURN_IF_ERROR(Argument(next & 31, &millis));
            w.Double(static_cast<double>(millis) / 1000.0);
            return Status::Ok();
          }
        }
        return Value(w, depth + 1);
      }
    }
    return Malformed("bad major type");
  }

  bool done() const { return pos_ == in_.size(); }

 private:
  bool AtBreak() {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == 0xFF) {
      ++pos_;
      return true;
    }
    return false;
  }

  Status Argument(int info, uint64_t* n) {
    if (info < 24) {
      *n = static_cast<uint64_t>(info);
      return Status::Ok();
    }
    if (info > 27) return Malformed("reserved additional information");
    size_t size = size_t{1} << (info - 24);
    if (in_.size() - pos_ < size) return Malformed("truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += size;
    *n = v;
    return Status::Ok();
  }

  Status Bytes(int major, bool indefinite, uint64_t n, std::string* out) {
    if (!indefinite) {
      if (n > in_.size() - pos_) return Malformed("truncated");
      out->assign(in_.substr(pos_, n));
      pos_ += n;
      return Status::Ok();
    }
    while (!AtBreak()) {
      if (pos_ >= in_.size()) return Malformed("truncated");
      const uint8_t chunk = static_cast<uint8_t>(in_[pos_++]);
      if ((chunk >> 5) != major || (chunk & 31) == 31) return Malformed("bad chunk");
      uint64_t size = 0;
      RETURN_IF_ERROR(Argument(chunk & 31, &size));
      if (size > in_.size() - pos_) return Malformed("truncated");
      out->append(in_.substr(pos_, size));
      pos_ += size;
    }
    return Status::Ok();
  }

  Status Key(JsonWriter& w) {
    if (pos_ >= in_.size()) return Malformed("truncated");
    const uint8_t initial = static_cast<uint8_t>(in_[pos_++]);
    if ((initial >> 5) != 3) return Malformed("map keys must be text");
    uint64_t n = 0;
    bool indefinite = (initial & 31) == 31;
    if (!indefinite) RETURN_IF_ERROR(Argument(initial & 31, &n));
    std::string key;
    RETURN_IF_ERROR(Bytes(3, indefinite, n, &key));
    WriteKey(w, key);
    return Status::Ok();
  }

  Status Simple(JsonWriter& w, int info) {
    switch (info) {
      case 20:
        w.Bool(false);
        return Status::Ok();
      case 21:
        w.Bool(true);
        return Status::Ok();
      case 22:
      case 23:
        w.Null();
        return Status::Ok();
      case 25: {  // half float
        uint64_t bits = 0;
        RETURN_IF_ERROR(Argument(25, &bits));
        int exponent = static_cast<int>((bits >> 10) & 0x1F);
        double mantissa = static_cast<double>(bits & 0x3FF);
        double value = exponent == 0 ? std::ldexp(mantissa, -24)
                       : exponent == 31 ? (mantissa == 0 ? INFINITY : NAN)
                                        : std::ldexp(mantissa + 1024, exponent - 25);
        return Number(w, (bits & 0x8000) ? -value : value);
      }
      case 26: {
        uint64_t bits = 0;
        RETURN_IF_ERROR(Argument(26, &bits));
        uint32_t b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, 4);
        return Number(w, f);
      }
      case 27: {
        uint64_t bits = 0;
        RETURN_IF_ERROR(Argument(27, &bits));
        double d;
        std::memcpy(&d, &bits, 8);
        return Number(w, d);
      }
    }
    return Malformed("unsupported simple value");
  }

  Status Number(JsonWriter& w, double value) {
    if (!std::isfinite(value)) return Malformed("non-finite number");
    w.Double(value);
    return Status::Ok();
  }

  std::string_view in_;
  size_t pos_ = 0;
};

void Head(std::string* out, int major, uint64_t n) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out->push_back(static_cast<char>(m | n));
    return;
  }
  int size = n <= 0xFF ? 1 : n <= 0xFFFF ? 2 : n <= 0xFFFFFFFFull ? 4 : 8;
  out->push_back(static_cast<char>(m | (24 + (size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3))));
  for (int shift = (size - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((n >> shift) & 0xFF));
  }
}

void Text(std::string* out, std::string_view s) {
  Head(out, 3, s.size());
  out->append(s);
}

bool IsTimestamp(std::string_view name, const CborHints& hints) {
  for (const auto& suffix : hints.timestamp_suffixes) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

bool IsBlob(std::string_view name, const CborHints& hints) {
  for (const auto& blob : hints.blob_members) {
    if (name == blob) return true;
  }
  return false;
}

void Encode(const JsonValue& v, std::string_view member, const CborHints& hints,
            std::string* out) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out->push_back(static_cast<char>(0xF6));
      return;
    case rapidjson::kFalseType:
      out->push_back(static_cast<char>(0xF4));
      return;
    case rapidjson::kTrueType:
      out->push_back(static_cast<char>(0xF5));
      return;
    case rapidjson::kStringType: {
      std::string_view s(v.GetString(), v.GetStringLength());
      if (!member.empty() && IsBlob(member, hints)) {
        if (auto bytes = Base64Decode(s)) {
          Head(out, 2, bytes->size());
          out->append(*bytes);
          return;
        }
      }
      Text(out, s);
      return;
    }
    case rapidjson::kNumberType: {
      if (!member.empty() && IsTimestamp(member, hints)) {
        Head(out, 6, 1);
        double millis = std::round(v.GetDouble() * 1000.0);
        // Clamped: only a service bug could put such a number here, but it must not be UB.
        if (!(millis >= 0)) millis = 0;
        if (millis >= 1.8e19) millis = 1.8e19;
        Head(out, 0, static_cast<uint64_t>(millis));
        return;
      }
      if (v.IsUint64()) {
        Head(out, 0, v.GetUint64());
      } else if (v.IsInt64()) {
        Head(out, 1, static_cast<uint64_t>(-1 - v.GetInt64()));
      } else {
        double d = v.GetDouble();
        uint64_t bits;
        std::memcpy(&bits, &d, 8);
        out->push_back(static_cast<char>(0xFB));
        for (int shift = 56; shift >= 0; shift -= 8) {
          out->push_back(static_cast<char>((bits >> shift) & 0xFF));
        }
      }
      return;
    }
    case rapidjson::kArrayType:
      Head(out, 4, v.Size());
      // Array elements inherit the member name, so a list of blobs stays blobs.
      for (const auto& item : v.GetArray()) Encode(item, member, hints, out);
      return;
    case rapidjson::kObjectType:
      Head(out, 5, v.MemberCount());
      for (const auto& m : v.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        Text(out, name);
        Encode(m.value, name, hints, out);
      }
      return;
  }
}

}  // namespace

Result<std::string> CborToJson(std::string_view cbor) {
  if (cbor.empty()) return std::string("{}");
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  Decoder decoder(cbor);
  RETURN_IF_ERROR(decoder.Value(w, 0));
  if (!decoder.done()) return Malformed("trailing bytes");
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> JsonToCbor(std::string_view json, const CborHints& hints) {
  JsonDocument doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return Status::Internal("response is not JSON");
  std::string out;
  out.reserve(json.size());
  Encode(doc, "", hints, &out);
  return out;
}

int FuzzCbor(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto json = CborToJson(input);
  if (!json.ok()) return 0;
  CborHints hints{.blob_members = {"Data"}, .timestamp_suffixes = {"Timestamp"}};
  auto cbor = JsonToCbor(*json, hints);
  if (cbor.ok()) CborToJson(*cbor).status().IgnoreError();
  return 0;
}

}  // namespace salespipe::services
