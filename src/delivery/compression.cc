#include "delivery/compression.h"

#include <snappy.h>
#include <zip.h>
#include <zlib.h>

#include <cstring>
#include <memory>

#include "lake/checksum.h"

namespace salespipe::delivery {
namespace {

constexpr size_t kFrameChunk = 64 * 1024;    // Snappy framing: max input per chunk
constexpr size_t kHadoopBlock = 256 * 1024;  // io.compression.codec.snappy.buffersize

void PutLe(std::string* out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutBe32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetLe(std::string_view in, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}
uint32_t GetBe32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

uint32_t MaskedCrc(std::string_view data) {
  uint32_t crc = lake::Crc32c(0, data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

Result<std::string> Gzip(std::string_view body) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(body.size())) + 64);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return Status::Internal("deflate failed");
  out.resize(written);
  return out;
}

Result<std::string> Gunzip(std::string_view body) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return Status::Internal("inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  std::string out;
  char buffer[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&stream);
      return Status::InvalidArgument("corrupt gzip data");
    }
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return Status::InvalidArgument("truncated gzip data");
    }
  }
  inflateEnd(&stream);
  return out;
}

struct ZipSourceCloser {
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};

Result<std::string> Zip(std::string_view body, std::string_view entry_name) {
  zip_error_t error;
  zip_error_init(&error);
  // The archive is built in memory: libzip replaces the file it writes (a new inode), which
  // would not be the staged file the lake tracks.
  zip_source_t* target = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (target == nullptr) return Status::Internal("zip_source_buffer_create failed");
  zip_source_keep(target);
  std::unique_ptr<zip_source_t, ZipSourceCloser> target_owner(target);
  zip_t* archive = zip_open_from_source(target, ZIP_TRUNCATE, &error);
  if (archive == nullptr) return Status::Internal("zip_open_from_source failed");
  zip_source_t* entry = zip_source_buffer(archive, body.data(), body.size(), 0);
  if (entry == nullptr ||
      zip_file_add(archive, std::string(entry_name).c_str(), entry, ZIP_FL_ENC_UTF_8) < 0) {
    if (entry != nullptr) zip_source_free(entry);
    zip_discard(archive);
    return Status::Internal("zip_file_add failed");
  }
  if (zip_close(archive) != 0) {
    zip_discard(archive);
    return Status::Internal("zip_close failed");
  }
  if (zip_source_open(target) != 0) return Status::Internal("zip_source_open failed");
  std::string out;
  char buffer[65536];
  zip_int64_t n;
  while ((n = zip_source_read(target, buffer, sizeof(buffer))) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  zip_source_close(target);
  if (n < 0) return Status::Internal("zip_source_read failed");
  return out;
}

Result<std::string> Unzip(std::string_view body) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(body.data(), body.size(), 0, &error);
  if (source == nullptr) return Status::Internal("zip_source_buffer_create failed");
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) {
    zip_source_free(source);
    return Status::InvalidArgument("corrupt zip archive");
  }
  std::string out;
  zip_file_t* file = zip_fopen_index(archive, 0, 0);
  if (file == nullptr) {
    zip_discard(archive);
    return Status::InvalidArgument("empty zip archive");
  }
  char buffer[65536];
  zip_int64_t n;
  while ((n = zip_fread(file, buffer, sizeof(buffer))) > 0) out.append(buffer, static_cast<size_t>(n));
  zip_fclose(file);
  zip_discard(archive);
  if (n < 0) return Status::InvalidArgument("corrupt zip entry");
  return out;
}

std::string SnappyFramed(std::string_view body) {
  std::string out("\xff\x06\x00\x00sNaPpY", 10);
  for (size_t at = 0; at < body.size(); at += kFrameChunk) {
    std::string_view chunk = body.substr(at, kFrameChunk);
    std::string compressed;
    snappy::Compress(chunk.data(), chunk.size(), &compressed);
    const bool stored = compressed.size() >= chunk.size();
    std::string_view payload = stored ? chunk : std::string_view(compressed);
    out.push_back(stored ? '\x01' : '\x00');
    PutLe(&out, static_cast<uint32_t>(payload.size() + 4), 3);
    PutLe(&out, MaskedCrc(chunk), 4);
    out.append(payload);
  }
  return out;
}

Result<std::string> SnappyUnframe(std::string_view body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < 4) return Status::InvalidArgument("truncated snappy frame");
    unsigned char type = static_cast<unsigned char>(body[at]);
    uint32_t length = GetLe(body, at + 1, 3);
    at += 4;
    if (body.size() - at < length) return Status::InvalidArgument("truncated snappy frame");
    std::string_view payload = body.substr(at, length);
    at += length;
    if (type == 0xff || (type >= 0x80 && type <= 0xfe)) continue;  // identifier, padding
    if (length < 4) return Status::InvalidArgument("short snappy chunk");
    uint32_t crc = GetLe(payload, 0, 4);
    std::string data;
    if (type == 0x00) {
      if (!snappy::Uncompress(payload.data() + 4, payload.size() - 4, &data)) {
        return Status::InvalidArgument("corrupt snappy chunk");
      }
    } else if (type == 0x01) {
      data.assign(payload.substr(4));
    } else {
      return Status::InvalidArgument("unknown snappy chunk type");
    }
    if (MaskedCrc(data) != crc) return Status::InvalidArgument("snappy chunk checksum mismatch");
    out += data;
  }
  return out;
}

std::string HadoopSnappy(std::string_view body) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += kHadoopBlock) {
    std::string_view block = body.substr(at, kHadoopBlock);
    std::string compressed;
    snappy::Compress(block.data(), block.size(), &compressed);
    PutBe32(&out, static_cast<uint32_t>(block.size()));
    PutBe32(&out, static_cast<uint32_t>(compressed.size()));
    out += compressed;
  }
  return out;
}

Result<std::string> HadoopUnsnappy(std::string_view body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < 8) return Status::InvalidArgument("truncated hadoop-snappy block");
    uint32_t raw = GetBe32(body, at);
    at += 4;
    size_t start = out.size();
    while (out.size() - start < raw) {
      if (body.size() - at < 4) return Status::InvalidArgument("truncated hadoop-snappy block");
      uint32_t length = GetBe32(body, at);
      at += 4;
      if (body.size() - at < length) return Status::InvalidArgument("truncated hadoop-snappy");
      std::string data;
      if (!snappy::Uncompress(body.data() + at, length, &data)) {
        return Status::InvalidArgument("corrupt hadoop-snappy chunk");
      }
      at += length;
      out += data;
    }
  }
  return out;
}

}  // namespace

std::optional<Compression> ParseCompression(std::string_view name) {
  if (name == "UNCOMPRESSED") return Compression::kUncompressed;
  if (name == "GZIP") return Compression::kGzip;
  if (name == "ZIP") return Compression::kZip;
  if (name == "Snappy") return Compression::kSnappy;
  if (name == "HADOOP_SNAPPY") return Compression::kHadoopSnappy;
  return std::nullopt;
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kUncompressed: return "UNCOMPRESSED";
    case Compression::kGzip: return "GZIP";
    case Compression::kZip: return "ZIP";
    case Compression::kSnappy: return "Snappy";
    case Compression::kHadoopSnappy: return "HADOOP_SNAPPY";
  }
  return "UNCOMPRESSED";
}

std::string_view CompressionExtension(Compression compression) {
  switch (compression) {
    case Compression::kUncompressed: return "";
    case Compression::kGzip: return ".gz";
    case Compression::kZip: return ".zip";
    case Compression::kSnappy:
    case Compression::kHadoopSnappy: return ".snappy";
  }
  return "";
}

Result<std::string> Compress(Compression compression, std::string_view body,
                             std::string_view entry_name) {
  switch (compression) {
    case Compression::kUncompressed: return std::string(body);
    case Compression::kGzip: return Gzip(body);
    case Compression::kZip: return Zip(body, entry_name);
    case Compression::kSnappy: return SnappyFramed(body);
    case Compression::kHadoopSnappy: return HadoopSnappy(body);
  }
  return std::string(body);
}

Result<std::string> Decompress(Compression compression, std::string_view body) {
  switch (compression) {
    case Compression::kUncompressed: return std::string(body);
    case Compression::kGzip: return Gunzip(body);
    case Compression::kZip: return Unzip(body);
    case Compression::kSnappy: return SnappyUnframe(body);
    case Compression::kHadoopSnappy: return HadoopUnsnappy(body);
  }
  return std::string(body);
}

}  // namespace salespipe::delivery
