#include "lake/records.h"

#include "kv/db.h"

namespace salespipe::lake::records {
namespace {

constexpr char kVersion = 1;

class Writer {
 public:
  Writer() { out_.push_back(kVersion); }
  Writer& U64(uint64_t v) {
    kv::AppendUint64(&out_, v);
    return *this;
  }
  Writer& Str(std::string_view s) {
    uint32_t n = static_cast<uint32_t>(s.size());
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(n >> shift));
    out_.append(s);
    return *this;
  }
  Writer& Kvs(const KeyValues& kvs) {
    U64(kvs.size());
    for (const auto& [k, v] : kvs) Str(k).Str(v);
    return *this;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {
    ok_ = !in_.empty() && in_[0] == kVersion;
    if (ok_) in_.remove_prefix(1);
  }
  Reader& U64(uint64_t* v) {
    if (ok_) ok_ = kv::ConsumeUint64(&in_, v);
    return *this;
  }
  Reader& I64(int64_t* v) {
    uint64_t u = 0;
    U64(&u);
    *v = static_cast<int64_t>(u);
    return *this;
  }
  Reader& Str(std::string* s) {
    if (!ok_ || in_.size() < 4) {
      ok_ = false;
      return *this;
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(in_[static_cast<size_t>(i)]);
    in_.remove_prefix(4);
    if (in_.size() < n) {
      ok_ = false;
      return *this;
    }
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return *this;
  }
  Reader& Kvs(KeyValues* kvs) {
    uint64_t n = 0;
    U64(&n);
    if (!ok_ || n > in_.size()) {
      ok_ = false;
      return *this;
    }
    kvs->clear();
    for (uint64_t i = 0; i < n && ok_; ++i) {
      std::string k, v;
      Str(&k).Str(&v);
      kvs->emplace_back(std::move(k), std::move(v));
    }
    return *this;
  }
  bool ok() const { return ok_; }

 private:
  std::string_view in_;
  bool ok_;
};

void WriteMeta(Writer& w, const ObjectMeta& m) {
  w.U64(m.size)
      .U64(static_cast<uint64_t>(m.last_modified_ms))
      .Str(m.etag)
      .Str(m.content_type)
      .Str(m.content_encoding)
      .Str(m.content_disposition)
      .Str(m.content_language)
      .Str(m.cache_control)
      .Str(m.expires)
      .Kvs(m.user_metadata)
      .Str(m.checksum_algorithm)
      .Str(m.checksum_value)
      .Str(m.checksum_type)
      .Kvs(m.tags)
      .U64(m.parts_count)
      .Str(m.path);
}

void ReadMeta(Reader& r, ObjectMeta* m) {
  uint64_t parts = 0;
  r.U64(&m->size)
      .I64(&m->last_modified_ms)
      .Str(&m->etag)
      .Str(&m->content_type)
      .Str(&m->content_encoding)
      .Str(&m->content_disposition)
      .Str(&m->content_language)
      .Str(&m->cache_control)
      .Str(&m->expires)
      .Kvs(&m->user_metadata)
      .Str(&m->checksum_algorithm)
      .Str(&m->checksum_value)
      .Str(&m->checksum_type)
      .Kvs(&m->tags)
      .U64(&parts)
      .Str(&m->path);
  m->parts_count = static_cast<uint32_t>(parts);
}

std::string Join(std::string_view tag, std::string_view a, std::string_view b) {
  std::string out(tag);
  out.append(a);
  out.push_back('\0');
  out.append(b);
  return out;
}

}  // namespace

std::string BucketKey(std::string_view bucket) { return "b/" + std::string(bucket); }
std::string ObjectPrefix(std::string_view bucket) { return Join("o/", bucket, ""); }
std::string ObjectKey(std::string_view bucket, std::string_view key) {
  return Join("o/", bucket, key);
}
std::string UploadPrefix(std::string_view bucket) { return Join("u/", bucket, ""); }
std::string UploadKey(std::string_view bucket, std::string_view upload_id) {
  return Join("u/", bucket, upload_id);
}
std::string PartPrefix(std::string_view upload_id) { return Join("p/", upload_id, ""); }
std::string PartKey(std::string_view upload_id, int part_number) {
  std::string out = PartPrefix(upload_id);
  uint32_t n = static_cast<uint32_t>(part_number);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  return out;
}
std::string IntentKey(std::string_view staged_name) { return "i/" + std::string(staged_name); }
std::string RollForwardKey(std::string_view staged_name) {
  return "j/" + std::string(staged_name);
}
std::string TombstoneKey(std::string_view bucket, std::string_view relative_path) {
  return Join("t/", bucket, relative_path);
}

std::string EncodeBucket(const BucketInfo& b) {
  return Writer().Str(b.name).Str(b.region).U64(static_cast<uint64_t>(b.created_ms)).Take();
}
bool DecodeBucket(std::string_view in, BucketInfo* b) {
  return Reader(in).Str(&b->name).Str(&b->region).I64(&b->created_ms).ok();
}

std::string EncodeMeta(const ObjectMeta& meta) {
  Writer w;
  WriteMeta(w, meta);
  return w.Take();
}
bool DecodeMeta(std::string_view in, ObjectMeta* meta) {
  Reader r(in);
  ReadMeta(r, meta);
  return r.ok();
}

std::string EncodeUpload(const UploadInfo& u) {
  Writer w;
  w.Str(u.upload_id).Str(u.bucket).Str(u.key).U64(static_cast<uint64_t>(u.initiated_ms));
  WriteMeta(w, u.meta);
  return w.Take();
}
bool DecodeUpload(std::string_view in, UploadInfo* u) {
  Reader r(in);
  r.Str(&u->upload_id).Str(&u->bucket).Str(&u->key).I64(&u->initiated_ms);
  ReadMeta(r, &u->meta);
  return r.ok();
}

std::string EncodePart(const PartInfo& p) {
  return Writer()
      .U64(static_cast<uint64_t>(p.part_number))
      .U64(p.size)
      .U64(static_cast<uint64_t>(p.last_modified_ms))
      .Str(p.etag)
      .Str(p.md5)
      .Str(p.checksum_value)
      .Take();
}
bool DecodePart(std::string_view in, PartInfo* p) {
  uint64_t number = 0;
  bool ok = Reader(in)
                .U64(&number)
                .U64(&p->size)
                .I64(&p->last_modified_ms)
                .Str(&p->etag)
                .Str(&p->md5)
                .Str(&p->checksum_value)
                .ok();
  p->part_number = static_cast<int>(number);
  return ok;
}

std::string EncodeIntent(const Intent& intent) {
  Writer w;
  w.Str(intent.bucket).Str(intent.key);
  WriteMeta(w, intent.meta);
  return w.Take();
}
bool DecodeIntent(std::string_view in, Intent* intent) {
  Reader r(in);
  r.Str(&intent->bucket).Str(&intent->key);
  ReadMeta(r, &intent->meta);
  return r.ok();
}

std::string EncodeRollForward(const Intent& intent, uint64_t inode) {
  Writer w;
  w.U64(inode).Str(intent.bucket).Str(intent.key);
  WriteMeta(w, intent.meta);
  return w.Take();
}
bool DecodeRollForward(std::string_view in, Intent* intent, uint64_t* inode) {
  Reader r(in);
  r.U64(inode).Str(&intent->bucket).Str(&intent->key);
  ReadMeta(r, &intent->meta);
  return r.ok();
}

}  // namespace salespipe::lake::records
