#include "lake/object_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::lake {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool NeedsPercent(unsigned char c) {
  return c == '%' || c == '.' || c < 0x20 || c == 0x7F;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

enum class Kind { kMissing, kDirectory, kOther };

Kind KindOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Kind::kMissing;
  return S_ISDIR(st.st_mode) ? Kind::kDirectory : Kind::kOther;
}

}  // namespace

bool IsSafePart(std::string_view part) {
  if (part.empty() || part == "." || part == ".." || part.size() > kMaxNameBytes) return false;
  if (part.find('\0') != std::string_view::npos) return false;
  return !part.starts_with(".%");
}

std::string EscapePart(std::string_view part, bool directory) {
  std::string out = directory ? ".%d" : ".%f";
  for (unsigned char c : part) {
    if (NeedsPercent(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (out.size() <= kMaxNameBytes) return out;
  return (directory ? ".%D" : ".%F") + HexEncode(Sha256(part));
}

std::optional<std::string> UnescapeName(std::string_view name) {
  if (!name.starts_with(".%")) return std::string(name);
  if (name.size() < 3 || (name[2] != 'd' && name[2] != 'f')) return std::nullopt;
  std::string out;
  for (size_t i = 3; i < name.size(); ++i) {
    if (name[i] != '%') {
      out.push_back(name[i]);
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    int hi = HexValue(name[i + 1]), lo = HexValue(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string NaturalPath(std::string_view key) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string_view part = key.substr(start, last ? std::string_view::npos : slash - start);
    if (!out.empty()) out.push_back('/');
    out += IsSafePart(part) ? std::string(part) : EscapePart(part, /*directory=*/!last);
    if (last) return out;
    start = slash + 1;
  }
}

Result<std::string> PlaceObject(const std::string& bucket_dir, std::string_view key) {
  std::string relative;
  std::string absolute = bucket_dir;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string_view part = key.substr(start, last ? std::string_view::npos : slash - start);
    std::string name;
    if (IsSafePart(part)) {
      Kind kind = KindOf(absolute + "/" + std::string(part));
      bool clash = last ? kind == Kind::kDirectory : kind == Kind::kOther;
      name = clash ? EscapePart(part, !last) : std::string(part);
    } else {
      name = EscapePart(part, !last);
    }
    if (!relative.empty()) relative.push_back('/');
    relative += name;
    absolute += "/" + name;
    if (last) return relative;
    if (::mkdir(absolute.c_str(), 0755) != 0 && errno != EEXIST) {
      SPDLOG_ERROR("lake: cannot create directory {}: {}", absolute, std::strerror(errno));
      return Status::Internal("cannot create a directory for the object");
    }
    start = slash + 1;
  }
}

}  // namespace salespipe::lake
