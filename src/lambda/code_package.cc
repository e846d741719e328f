#include "lambda/code_package.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "common/crypto.h"
#include "common/logging.h"
#include "common/unique_fd.h"

namespace salespipe::lambda {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBadZip =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

Status BadZip() { return Status::InvalidArgument(std::string(kBadZip)); }

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

// The normalized relative path of an entry, or nullopt if it would leave the package folder
// (zip slip): absolute names, ".." segments that climb above the root, empty names.
std::optional<fs::path> SafeRelative(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos) {
    return std::nullopt;
  }
  fs::path out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (out.empty()) return std::nullopt;
      out = out.parent_path();
      continue;
    }
    out /= std::string(part);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("writing an unpacked file failed");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> ReadEntry(zip_t* archive, zip_uint64_t index, uint64_t size) {
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive, index, 0));
  if (!file) return BadZip();
  std::string out;
  out.resize(size);
  zip_int64_t n = size == 0 ? 0 : zip_fread(file.get(), out.data(), size);
  if (n < 0 || static_cast<uint64_t>(n) != size) return BadZip();
  return out;
}

Status ExtractFile(zip_t* archive, zip_uint64_t index, uint64_t size, const fs::path& target,
                   mode_t mode) {
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive, index, 0));
  if (!file) return BadZip();
  UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Internal("cannot create an unpacked file");
  std::vector<char> buffer(256 << 10);
  uint64_t total = 0;
  for (;;) {
    zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
    if (n < 0) return BadZip();  // a CRC or inflate error
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > size) return BadZip();
    RETURN_IF_ERROR(WriteAll(fd.get(), {buffer.data(), static_cast<size_t>(n)}));
  }
  if (total != size) return BadZip();
  if (::fchmod(fd.get(), mode) != 0) return Status::Internal("cannot set an unpacked file mode");
  return Status::Ok();
}

// Unpacks every entry of `zip` into `root` (an empty folder).
Status Unpack(std::string_view zip, const fs::path& root) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip.data(), zip.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return BadZip();
  }
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
  zip_error_fini(&error);
  if (!archive) {
    zip_source_free(source);
    return BadZip();
  }
  zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count <= 0) return BadZip();  // an empty buffer opens as an empty archive

  // Sizes first: refuse an oversized package before writing anything.
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_NAME)) {
      return BadZip();
    }
    total += st.size;
    if (total > kMaxUnzippedBytes) {
      return Status::InvalidArgument("Unzipped size must be smaller than 262144000 bytes");
    }
  }

  struct Link {
    fs::path at;
    std::string target;
  };
  std::vector<Link> links;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_uint64_t index = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), index, 0, &st) != 0) return BadZip();
    std::string_view name = st.name;
    std::optional<fs::path> relative = SafeRelative(name);
    if (!relative) {
      // A bare "./" or "/" directory entry is harmless; everything else that escapes is not.
      if (name == "./" || name == "/") continue;
      return BadZip();
    }
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    mode_t unix_mode = 0;
    if (zip_file_get_external_attributes(archive.get(), index, 0, &opsys, &attributes) == 0 &&
        opsys == ZIP_OPSYS_UNIX) {
      unix_mode = static_cast<mode_t>(attributes >> 16);
    }
    fs::path target = root / *relative;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Status::Internal("cannot create an unpacked folder");
    if (name.back() == '/' || S_ISDIR(unix_mode)) {
      fs::create_directories(target, ec);
      if (ec) return Status::Internal("cannot create an unpacked folder");
      continue;
    }
    if (S_ISLNK(unix_mode)) {
      ASSIGN_OR_RETURN(std::string link_target, ReadEntry(archive.get(), index, st.size));
      // The link must resolve inside the package: relative, and not climbing above the root.
      if (link_target.empty() || link_target.front() == '/') return BadZip();
      std::string joined = relative->parent_path().string();
      if (!joined.empty()) joined += '/';
      joined += link_target;
      if (!SafeRelative(joined)) return BadZip();
      links.push_back({target, std::move(link_target)});
      continue;
    }
    // Keep the permission bits (the x bit of a provided runtime's bootstrap); files stay at
    // least owner-readable so the runner can load them.
    mode_t mode = unix_mode != 0 ? ((unix_mode & 0777) | 0400) : 0644;
    RETURN_IF_ERROR(ExtractFile(archive.get(), index, st.size, target, mode));
  }
  for (const Link& link : links) {
    std::error_code ec;
    fs::create_symlink(link.target, link.at, ec);
    if (ec) return BadZip();  // e.g. a link over an existing entry
  }
  return Status::Ok();
}

}  // namespace

CodePackage DescribePackage(std::string_view zip) {
  std::string digest = Sha256(zip);
  return CodePackage{.sha256_base64 = Base64Encode(digest),
                     .sha256_hex = HexEncode(digest),
                     .size = static_cast<int64_t>(zip.size())};
}

std::string PackageCodeDir(const std::string& function_dir, std::string_view sha256_hex) {
  return (fs::path(function_dir) / std::string(sha256_hex) / "code").string();
}

std::string PackageZipPath(const std::string& function_dir, std::string_view sha256_hex) {
  return (fs::path(function_dir) / std::string(sha256_hex) / "package.zip").string();
}

Result<CodePackage> StorePackage(const std::string& function_dir, std::string_view zip) {
  CodePackage package = DescribePackage(zip);
  fs::path final_dir = fs::path(function_dir) / package.sha256_hex;
  std::error_code ec;
  if (fs::exists(final_dir / "package.zip", ec)) return package;  // the same code again

  fs::create_directories(function_dir, ec);
  if (ec) return Status::Internal("cannot create the function's code folder");
  // Unpack beside the final folder and rename it into place: a crash leaves only a .tmp-*
  // folder (removed by the next GC), never a half-unpacked package under its digest.
  fs::path staging = fs::path(function_dir) / (".tmp-" + NewUuid());
  fs::create_directories(staging / "code", ec);
  if (ec) return Status::Internal("cannot create the function's code folder");
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(staging, ignored);  // best effort: GC removes leftovers
  };
  Status unpacked = Unpack(zip, staging / "code");
  if (!unpacked.ok()) {
    cleanup();
    return unpacked;
  }
  {
    UniqueFd fd(::open((staging / "package.zip").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    Status written = fd.valid() ? WriteAll(fd.get(), zip) : Status::Internal("cannot store the package");
    if (!written.ok()) {
      cleanup();
      return written;
    }
  }
  fs::rename(staging, final_dir, ec);
  if (ec) {
    cleanup();
    // Another store of the same package won the race: use it.
    if (fs::exists(final_dir / "package.zip")) return package;
    return Status::Internal("cannot move the unpacked package into place");
  }
  return package;
}

}  // namespace salespipe::lambda
