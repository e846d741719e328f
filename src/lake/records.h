#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lake/lake.h"

// Persisted: the RocksDB layout of the lake (column family kv::Cf::kObjects). Keys:
//   "b/" bucket                          -> BucketInfo
//   "o/" bucket "\0" key                 -> ObjectMeta (keys sort by UTF-8 bytes, as S3 lists)
//   "u/" bucket "\0" upload id           -> UploadInfo
//   "p/" upload id "\0" part (4 bytes BE) -> PartInfo
//   "i/" staged file name                -> intent: bucket, key, ObjectMeta (written by
//                                           older builds; only recovery reads it now)
//   "j/" staged file name                -> roll-forward intent: inode of the staged file,
//                                           bucket, key, ObjectMeta (see Lake::Commit)
//   "t/" bucket "\0" relative path       -> tombstone: a file to remove (see DeleteObject)
// Bucket names never contain NUL, so "bucket\0" prefixes are disjoint between buckets.
// Values start with a format version byte (1); strings are a 4-byte big-endian length and
// the bytes; integers 8 bytes big-endian. Append fields at the end only.
namespace salespipe::lake::records {

std::string BucketKey(std::string_view bucket);
std::string ObjectPrefix(std::string_view bucket);  // "o/" bucket "\0"
std::string ObjectKey(std::string_view bucket, std::string_view key);
std::string UploadPrefix(std::string_view bucket);
std::string UploadKey(std::string_view bucket, std::string_view upload_id);
std::string PartPrefix(std::string_view upload_id);
std::string PartKey(std::string_view upload_id, int part_number);
std::string IntentKey(std::string_view staged_name);
std::string RollForwardKey(std::string_view staged_name);
std::string TombstoneKey(std::string_view bucket, std::string_view relative_path);

std::string EncodeBucket(const BucketInfo& bucket);
bool DecodeBucket(std::string_view in, BucketInfo* bucket);
std::string EncodeMeta(const ObjectMeta& meta);
bool DecodeMeta(std::string_view in, ObjectMeta* meta);
std::string EncodeUpload(const UploadInfo& upload);
bool DecodeUpload(std::string_view in, UploadInfo* upload);
std::string EncodePart(const PartInfo& part);
bool DecodePart(std::string_view in, PartInfo* part);
struct Intent {
  std::string bucket;
  std::string key;
  ObjectMeta meta;
};
std::string EncodeIntent(const Intent& intent);
bool DecodeIntent(std::string_view in, Intent* intent);
std::string EncodeRollForward(const Intent& intent, uint64_t inode);
bool DecodeRollForward(std::string_view in, Intent* intent, uint64_t* inode);

}  // namespace salespipe::lake::records
