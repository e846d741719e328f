#pragma once

#include <zip.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/crypto.h"

// Builds zip files in memory for tests (through a temporary file: libzip writes to paths).
namespace salespipe::lambda::testing {

struct ZipEntry {
  std::string name;
  std::string data;
  unsigned mode = 0100644;  // st_mode with the file type bits (S_IFLNK for symlinks)
};

inline std::string MakeZip(const std::vector<ZipEntry>& entries) {
  std::string path = "/tmp/salespipe-test-" + NewUuid() + ".zip";
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  for (const ZipEntry& entry : entries) {
    zip_source_t* source = zip_source_buffer(archive, entry.data.data(), entry.data.size(), 0);
    zip_int64_t index = zip_file_add(archive, entry.name.c_str(), source, ZIP_FL_ENC_UTF_8);
    zip_file_set_external_attributes(archive, static_cast<zip_uint64_t>(index), 0,
                                     ZIP_OPSYS_UNIX, static_cast<zip_uint32_t>(entry.mode) << 16);
  }
  zip_close(archive);
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  std::remove(path.c_str());
  return out.str();
}

}  // namespace salespipe::lambda::testing
