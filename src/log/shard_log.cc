#include "log/shard_log.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::log {

// RocksDB layout in kv::Cf::kLog (all integers big-endian, so byte order is numeric order):
//   "S" | stream(8)                       -> stream metadata (EncodeStream below)
//   "R" | stream(8) | shard(4) | seq(8)   -> record: arrival_millis(8) | key_len(4) | key | data
//                                            (arrival's top bit: data is rendered on read)
//   "T" | stream(8) | shard(4)            -> highest trimmed (deleted) sequence number(8)
//   "C"                                   -> next stream id(8)
// Persisted: change only by adding a version.
namespace {

constexpr char kStreamTag = 'S';
constexpr char kRecordTag = 'R';
constexpr char kTrimTag = 'T';
constexpr std::string_view kCounterKey = "C";
constexpr uint8_t kStreamFormatVersion = 1;
constexpr uint8_t kIteratorVersion = 1;

using kv::AppendBytes;
using kv::AppendUint32;
using kv::ConsumeUint32;
void AppendHash(std::string* out, HashKey v) {
  kv::AppendUint64(out, static_cast<uint64_t>(v >> 64));
  kv::AppendUint64(out, static_cast<uint64_t>(v));
}
bool ConsumeHash(std::string_view* in, HashKey* v) {
  uint64_t hi = 0, lo = 0;
  if (!kv::ConsumeUint64(in, &hi) || !kv::ConsumeUint64(in, &lo)) return false;
  *v = (static_cast<HashKey>(hi) << 64) | lo;
  return true;
}
bool ConsumeBytes(std::string_view* in, std::string* out) {
  std::string_view bytes;
  if (!kv::ConsumeBytes(in, &bytes)) return false;
  out->assign(bytes);
  return true;
}

std::string StreamKey(uint64_t stream) {
  std::string key(1, kStreamTag);
  kv::AppendUint64(&key, stream);
  return key;
}
std::string ShardPrefix(char tag, ShardId shard) {
  std::string key(1, tag);
  kv::AppendUint64(&key, shard.stream.value);
  AppendUint32(&key, shard.index);
  return key;
}
std::string RecordKey(ShardId shard, uint64_t seq) {
  std::string key = ShardPrefix(kRecordTag, shard);
  // kShardKeyPrefixBytes (the storage's file cuts) must name exactly the shard.
  static_assert(kShardKeyPrefixBytes == 1 + 8 + 4);
  kv::AppendUint64(&key, seq);
  return key;
}
std::string StreamRangeStart(char tag, uint64_t stream) {
  std::string key(1, tag);
  kv::AppendUint64(&key, stream);
  return key;
}

uint64_t SequenceFromRecordKey(std::string_view key) {
  key.remove_prefix(key.size() - 8);
  uint64_t seq = 0;
  kv::ConsumeUint64(&key, &seq);
  return seq;
}

// In a record's stored arrival time (never near 2^63 ms): its data is rendered on read.
constexpr uint64_t kRenderedOnReadBit = uint64_t{1} << 63;

bool DecodeRecordValue(std::string_view value, int64_t* arrival, std::string* key,
                       std::string* data, bool* rendered_on_read = nullptr) {
  uint64_t arrival_u = 0;
  if (!kv::ConsumeUint64(&value, &arrival_u) || !ConsumeBytes(&value, key)) return false;
  *arrival = static_cast<int64_t>(arrival_u & ~kRenderedOnReadBit);
  if (rendered_on_read != nullptr) *rendered_on_read = (arrival_u & kRenderedOnReadBit) != 0;
  data->assign(value);
  return true;
}

std::string NotFoundStream(StreamId stream) {
  return "Stream " + std::to_string(stream.value) + " not found";
}
std::string NotFoundShard(ShardId shard) {
  return "Shard " + std::to_string(shard.index) + " of stream " +
         std::to_string(shard.stream.value) + " not found";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hash keys

std::string HashKeyToString(HashKey key) {
  if (key == 0) return "0";
  std::string digits;
  while (key != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::optional<HashKey> ParseHashKey(std::string_view text) {
  if (text.empty() || text.size() > 39) return std::nullopt;
  HashKey value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    HashKey digit = static_cast<HashKey>(c - '0');
    if (value > (kMaxHashKey - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

HashKey HashOfPartitionKey(std::string_view bytes) {
  std::string md5 = Md5(bytes);
  HashKey value = 0;
  for (unsigned char c : md5) value = (value << 8) | c;
  return value;
}

std::vector<HashKeyRange> UniformHashKeyRanges(int shard_count) {
  if (shard_count <= 1) return {HashKeyRange{}};
  const HashKey n = static_cast<HashKey>(shard_count);
  // floor(2^128 / n) computed without 2^128: 2^128 = max + 1 = q*n + r + 1.
  HashKey step = kMaxHashKey / n;
  if (kMaxHashKey % n == n - 1) ++step;
  std::vector<HashKeyRange> ranges;
  for (int i = 0; i < shard_count; ++i) {
    HashKey start = step * static_cast<HashKey>(i);
    HashKey end = i + 1 == shard_count ? kMaxHashKey : step * static_cast<HashKey>(i + 1) - 1;
    ranges.push_back({start, end});
  }
  return ranges;
}

int StreamInfo::open_shard_count() const {
  return static_cast<int>(
      std::count_if(shards.begin(), shards.end(), [](const ShardInfo& s) { return s.open(); }));
}

// ---------------------------------------------------------------------------------------------
// Iterators: base64 of version(1) | stream(8) | shard(4) | next(8) | created_millis(8) |
// crc32(4) of the preceding bytes. The checksum rejects typos and truncation; the ids inside
// are checked against live metadata on every read, so a forged token can reach only data the
// caller could read anyway.

std::string EncodeIterator(const IteratorState& state) {
  std::string raw(1, static_cast<char>(kIteratorVersion));
  kv::AppendUint64(&raw, state.shard.stream.value);
  AppendUint32(&raw, state.shard.index);
  kv::AppendUint64(&raw, state.next.value);
  kv::AppendUint64(&raw, static_cast<uint64_t>(state.created_millis));
  AppendUint32(&raw, Crc32(raw));
  return Base64Encode(raw);
}

Result<IteratorState> DecodeIterator(std::string_view token, int64_t now_millis,
                                     std::chrono::milliseconds ttl) {
  const Status invalid = Status::InvalidArgument("Invalid ShardIterator.");
  if (token.size() != 44) return invalid;
  std::optional<std::string> raw = Base64Decode(token);
  // Only the canonical spelling is accepted, so a token has exactly one text form.
  if (!raw || raw->size() != 33 || static_cast<uint8_t>((*raw)[0]) != kIteratorVersion ||
      Base64Encode(*raw) != token) {
    return invalid;
  }
  std::string_view body(*raw);
  std::string_view crc_part = body.substr(29);
  uint32_t crc = 0;
  ConsumeUint32(&crc_part, &crc);
  if (crc != Crc32(body.substr(0, 29))) return invalid;
  body.remove_prefix(1);
  IteratorState state;
  uint64_t created = 0;
  kv::ConsumeUint64(&body, &state.shard.stream.value);
  ConsumeUint32(&body, &state.shard.index);
  kv::ConsumeUint64(&body, &state.next.value);
  kv::ConsumeUint64(&body, &created);
  state.created_millis = static_cast<int64_t>(created);
  if (now_millis - state.created_millis > ttl.count()) {
    return Status::FailedPrecondition(
        "Iterator expired. The iterator was created at time " +
        std::to_string(state.created_millis) + " while right now it is " +
        std::to_string(now_millis) +
        " which is further in the future than the tolerated delay of " +
        std::to_string(ttl.count()) + " milliseconds.");
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// State

struct ShardLog::ShardState {
  explicit ShardState(ShardInfo shard_info) : info(std::move(shard_info)) {}
  const ShardId id() const { return info.id; }

  Mutex mu;
  ShardInfo info GUARDED_BY(mu);  // ending_sequence/closed_millis change on close
  uint64_t last_assigned GUARDED_BY(mu) = 0;
  std::set<uint64_t> pending GUARDED_BY(mu);    // assigned, batch not yet committed or dropped
  uint64_t visible_high GUARDED_BY(mu) = 0;     // every seq <= this is committed or abandoned
  uint64_t trimmed_through GUARDED_BY(mu) = 0;  // records <= this may have been deleted
  bool deleted GUARDED_BY(mu) = false;
};

struct ShardLog::StreamState {
  StreamId id;
  std::string name;
  std::string attributes;
  int64_t created_millis = 0;
  std::chrono::hours retention{24};
  std::vector<std::shared_ptr<ShardState>> shards;
};

namespace {

std::string EncodeShard(const ShardInfo& s) {
  std::string out;
  AppendHash(&out, s.hash_range.starting);
  AppendHash(&out, s.hash_range.ending);
  uint8_t flags = (s.parent ? 1 : 0) | (s.adjacent_parent ? 2 : 0) | (s.ending_sequence ? 4 : 0) |
                  (s.closed_millis ? 8 : 0);
  out.push_back(static_cast<char>(flags));
  AppendUint32(&out, s.parent.value_or(0));
  AppendUint32(&out, s.adjacent_parent.value_or(0));
  kv::AppendUint64(&out, s.starting_sequence.value);
  kv::AppendUint64(&out, s.ending_sequence.value_or(SequenceNumber{}).value);
  kv::AppendUint64(&out, static_cast<uint64_t>(s.created_millis));
  kv::AppendUint64(&out, static_cast<uint64_t>(s.closed_millis.value_or(0)));
  return out;
}

bool DecodeShard(std::string_view* in, ShardInfo* s) {
  if (!ConsumeHash(in, &s->hash_range.starting) || !ConsumeHash(in, &s->hash_range.ending) ||
      in->empty()) {
    return false;
  }
  uint8_t flags = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  uint32_t parent = 0, adjacent = 0;
  uint64_t start = 0, end = 0, created = 0, closed = 0;
  if (!ConsumeUint32(in, &parent) || !ConsumeUint32(in, &adjacent) ||
      !kv::ConsumeUint64(in, &start) || !kv::ConsumeUint64(in, &end) ||
      !kv::ConsumeUint64(in, &created) || !kv::ConsumeUint64(in, &closed)) {
    return false;
  }
  if (flags & 1) s->parent = parent;
  if (flags & 2) s->adjacent_parent = adjacent;
  s->starting_sequence = {start};
  if (flags & 4) s->ending_sequence = SequenceNumber{end};
  s->created_millis = static_cast<int64_t>(created);
  if (flags & 8) s->closed_millis = static_cast<int64_t>(closed);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ShardLog::ShardLog(kv::Db& db, const Clock& clock, Options options)
    : db_(db), clock_(clock), options_(options) {}

ShardLog::~ShardLog() { Stop(); }

Status ShardLog::Open() {
  std::unique_lock lock(mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> counter, db_.Get(kv::Cf::kLog, kCounterKey));
  if (counter) {
    std::string_view view(*counter);
    kv::ConsumeUint64(&view, &next_stream_id_);
  }
  std::string lower(1, kStreamTag);
  auto it = db_.NewIterator(kv::Cf::kLog, lower, std::string(1, kStreamTag + 1));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view in = it->value();
    auto stream = std::make_shared<StreamState>();
    uint64_t id = 0, created = 0, retention = 0;
    uint32_t shard_count = 0;
    bool ok = !in.empty() && static_cast<uint8_t>(in[0]) == kStreamFormatVersion;
    if (ok) in.remove_prefix(1);
    ok = ok && kv::ConsumeUint64(&in, &id) && kv::ConsumeUint64(&in, &created) &&
         kv::ConsumeUint64(&in, &retention) && ConsumeBytes(&in, &stream->name) &&
         ConsumeBytes(&in, &stream->attributes) && ConsumeUint32(&in, &shard_count);
    stream->id = {id};
    stream->created_millis = static_cast<int64_t>(created);
    stream->retention = std::chrono::hours(retention);
    for (uint32_t i = 0; ok && i < shard_count; ++i) {
      ShardInfo info;
      info.id = {stream->id, i};
      ok = DecodeShard(&in, &info);
      if (!ok) break;
      auto shard = std::make_shared<ShardState>(info);
      MutexLock shard_lock(shard->mu);
      uint64_t last = info.starting_sequence.value;
      if (info.ending_sequence) last = std::max(last, info.ending_sequence->value);
      // The newest record tells where numbering resumes; the trim mark covers a shard whose
      // records are all gone.
      std::string prefix = ShardPrefix(kRecordTag, info.id);
      auto records = db_.NewIterator(kv::Cf::kLog, prefix, kv::PrefixSuccessor(prefix));
      records->SeekToLast();
      if (records->Valid()) last = std::max(last, SequenceFromRecordKey(records->key()));
      RETURN_IF_ERROR(records->status());
      ASSIGN_OR_RETURN(std::optional<std::string> trim,
                       db_.Get(kv::Cf::kLog, ShardPrefix(kTrimTag, info.id)));
      if (trim) {
        std::string_view view(*trim);
        kv::ConsumeUint64(&view, &shard->trimmed_through);
        last = std::max(last, shard->trimmed_through);
      }
      shard->last_assigned = last;
      shard->visible_high = last;
      stream->shards.push_back(std::move(shard));
    }
    if (!ok) {
      SPDLOG_ERROR("log: corrupt stream metadata under key {}", HexEncode(it->key()));
      return Status::Internal("corrupt stream metadata");
    }
    next_stream_id_ = std::max(next_stream_id_, id + 1);
    names_[stream->name] = id;
    streams_[id] = std::move(stream);
  }
  return it->status();
}

Status ShardLog::PersistStream(kv::Batch& batch, const StreamState& stream) const {
  std::string out(1, static_cast<char>(kStreamFormatVersion));
  kv::AppendUint64(&out, stream.id.value);
  kv::AppendUint64(&out, static_cast<uint64_t>(stream.created_millis));
  kv::AppendUint64(&out, static_cast<uint64_t>(stream.retention.count()));
  AppendBytes(&out, stream.name);
  AppendBytes(&out, stream.attributes);
  AppendUint32(&out, static_cast<uint32_t>(stream.shards.size()));
  for (const auto& shard : stream.shards) {
    MutexLock lock(shard->mu);
    out += EncodeShard(shard->info);
  }
  batch.Put(kv::Cf::kLog, StreamKey(stream.id.value), out);
  return Status::Ok();
}

Result<std::shared_ptr<ShardLog::StreamState>> ShardLog::FindState(StreamId stream) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream.value);
  if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream));
  return it->second;
}

Result<std::shared_ptr<ShardLog::ShardState>> ShardLog::FindShard(ShardId shard) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(shard.stream.value);
  if (it == streams_.end()) return Status::NotFound(NotFoundStream(shard.stream));
  if (shard.index >= it->second->shards.size()) return Status::NotFound(NotFoundShard(shard));
  return it->second->shards[shard.index];
}

ShardInfo ShardLog::Snapshot(const std::shared_ptr<ShardState>& shard) {
  MutexLock lock(shard->mu);
  return shard->info;
}

StreamInfo ShardLog::SnapshotStream(const StreamState& stream) {
  StreamInfo info{.id = stream.id,
                  .name = stream.name,
                  .attributes = stream.attributes,
                  .created_millis = stream.created_millis,
                  .retention = stream.retention};
  for (const auto& shard : stream.shards) info.shards.push_back(Snapshot(shard));
  return info;
}

// ---------------------------------------------------------------------------------------------
// Streams

Result<StreamInfo> ShardLog::CreateStream(const CreateStreamOptions& options) {
  if (options.shards.empty()) return Status::InvalidArgument("A stream needs at least one shard");
  std::unique_lock lock(mu_);
  if (names_.count(options.name)) {
    return Status::AlreadyExists("Stream " + options.name + " already exists");
  }
  const int64_t now = clock_.NowMillis();
  auto stream = std::make_shared<StreamState>();
  stream->id = {next_stream_id_};
  stream->name = options.name;
  stream->attributes = options.attributes;
  stream->created_millis = now;
  stream->retention = options.retention;
  for (size_t i = 0; i < options.shards.size(); ++i) {
    ShardInfo info{.id = {stream->id, static_cast<uint32_t>(i)},
                   .hash_range = options.shards[i],
                   .starting_sequence = SequenceAtMillis(now),
                   .created_millis = now};
    auto shard = std::make_shared<ShardState>(info);
    shard->last_assigned = shard->visible_high = info.starting_sequence.value;
    stream->shards.push_back(std::move(shard));
  }
  kv::Batch batch = db_.NewBatch();
  RETURN_IF_ERROR(PersistStream(batch, *stream));
  std::string counter;
  kv::AppendUint64(&counter, next_stream_id_ + 1);
  batch.Put(kv::Cf::kLog, kCounterKey, counter);
  RETURN_IF_ERROR(db_.Commit(batch));
  ++next_stream_id_;
  names_[stream->name] = stream->id.value;
  streams_[stream->id.value] = stream;
  return SnapshotStream(*stream);
}

Status ShardLog::DeleteStream(StreamId stream_id) {
  std::shared_ptr<StreamState> stream;
  {
    std::unique_lock lock(mu_);
    auto it = streams_.find(stream_id.value);
    if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream_id));
    stream = it->second;
    kv::Batch batch = db_.NewBatch();
    batch.Delete(kv::Cf::kLog, StreamKey(stream_id.value));
    for (char tag : {kRecordTag, kTrimTag}) {
      batch.DeleteRange(kv::Cf::kLog, StreamRangeStart(tag, stream_id.value),
                        StreamRangeStart(tag, stream_id.value + 1));
    }
    RETURN_IF_ERROR(db_.Commit(batch));
    names_.erase(stream->name);
    streams_.erase(it);
  }
  for (const auto& shard : stream->shards) {
    MutexLock lock(shard->mu);
    shard->deleted = true;
  }
  for (const auto& shard : stream->shards) Notify(shard->id());
  return Status::Ok();
}

Result<StreamInfo> ShardLog::GetStream(StreamId stream) const {
  std::shared_lock lock(mu_);
  auto it = streams_.find(stream.value);
  if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream));
  return SnapshotStream(*it->second);
}

Result<StreamInfo> ShardLog::FindStream(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = names_.find(name);
  if (it == names_.end()) return Status::NotFound("Stream " + std::string(name) + " not found");
  return SnapshotStream(*streams_.at(it->second));
}

std::vector<StreamInfo> ShardLog::ListStreams(std::string_view prefix) const {
  std::shared_lock lock(mu_);
  std::vector<StreamInfo> out;
  for (auto it = names_.lower_bound(prefix); it != names_.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    out.push_back(SnapshotStream(*streams_.at(it->second)));
  }
  return out;
}

Status ShardLog::SetAttributes(StreamId stream_id, std::string attributes) {
  std::unique_lock lock(mu_);
  auto it = streams_.find(stream_id.value);
  if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream_id));
  StreamState copy = *it->second;
  copy.attributes = std::move(attributes);
  kv::Batch batch = db_.NewBatch();
  RETURN_IF_ERROR(PersistStream(batch, copy));
  RETURN_IF_ERROR(db_.Commit(batch));
  it->second->attributes = std::move(copy.attributes);
  return Status::Ok();
}

Status ShardLog::SetRetention(StreamId stream_id, std::chrono::hours retention) {
  std::unique_lock lock(mu_);
  auto it = streams_.find(stream_id.value);
  if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream_id));
  StreamState copy = *it->second;
  copy.retention = retention;
  kv::Batch batch = db_.NewBatch();
  RETURN_IF_ERROR(PersistStream(batch, copy));
  RETURN_IF_ERROR(db_.Commit(batch));
  it->second->retention = retention;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Shards

Result<ShardInfo> ShardLog::GetShard(ShardId shard) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> state, FindShard(shard));
  return Snapshot(state);
}

Result<ShardId> ShardLog::ShardForHashKey(StreamId stream_id, HashKey key) const {
  ASSIGN_OR_RETURN(std::shared_ptr<StreamState> stream, FindState(stream_id));
  std::shared_lock lock(mu_);
  for (const auto& shard : stream->shards) {
    MutexLock shard_lock(shard->mu);
    if (shard->info.open() && shard->info.hash_range.starting <= key &&
        key <= shard->info.hash_range.ending) {
      return shard->info.id;
    }
  }
  return Status::NotFound("No open shard of stream " + std::to_string(stream_id.value) +
                          " covers hash key " + HashKeyToString(key));
}

Result<std::vector<ShardId>> ShardLog::Reshard(StreamId stream_id,
                                               const std::vector<uint32_t>& close,
                                               const std::vector<NewShard>& open) {
  std::vector<ShardId> closed_ids;
  std::vector<ShardId> opened;
  {
    std::unique_lock lock(mu_);
    auto it = streams_.find(stream_id.value);
    if (it == streams_.end()) return Status::NotFound(NotFoundStream(stream_id));
    StreamState& stream = *it->second;
    for (uint32_t index : close) {
      if (index >= stream.shards.size()) return Status::NotFound(NotFoundShard({stream_id, index}));
      MutexLock shard_lock(stream.shards[index]->mu);
      if (!stream.shards[index]->info.open()) {
        return Status::FailedPrecondition("Shard " + std::to_string(index) + " is closed");
      }
    }
    for (const NewShard& shard : open) {
      for (auto parent : {shard.parent, shard.adjacent_parent}) {
        if (parent && *parent >= stream.shards.size()) {
          return Status::NotFound(NotFoundShard({stream_id, *parent}));
        }
      }
    }
    const int64_t now = clock_.NowMillis();
    // Close first, under each shard's lock, so no append slips in after the ending number is
    // fixed. On a failed commit the in-memory close stays: the shard then refuses appends
    // until restart, which is the safe direction.
    std::vector<std::pair<std::shared_ptr<ShardState>, ShardInfo>> before;
    uint64_t max_ending = SequenceAtMillis(now).value;
    for (uint32_t index : close) {
      auto& shard = stream.shards[index];
      MutexLock shard_lock(shard->mu);
      before.emplace_back(shard, shard->info);
      uint64_t ending = std::max(shard->last_assigned, shard->info.starting_sequence.value);
      shard->info.ending_sequence = SequenceNumber{ending};
      shard->info.closed_millis = now;
      max_ending = std::max(max_ending, ending + 1);
      closed_ids.push_back(shard->info.id);
    }
    for (const NewShard& spec : open) {
      for (auto parent : {spec.parent, spec.adjacent_parent}) {
        if (!parent) continue;
        MutexLock shard_lock(stream.shards[*parent]->mu);
        max_ending = std::max(max_ending, stream.shards[*parent]->last_assigned + 1);
      }
    }
    const size_t old_count = stream.shards.size();
    for (const NewShard& spec : open) {
      ShardInfo info{.id = {stream_id, static_cast<uint32_t>(stream.shards.size())},
                     .hash_range = spec.hash_range,
                     .parent = spec.parent,
                     .adjacent_parent = spec.adjacent_parent,
                     .starting_sequence = {max_ending},
                     .created_millis = now};
      auto shard = std::make_shared<ShardState>(info);
      shard->last_assigned = shard->visible_high = max_ending;
      stream.shards.push_back(std::move(shard));
      opened.push_back(info.id);
    }
    kv::Batch batch = db_.NewBatch();
    RETURN_IF_ERROR(PersistStream(batch, stream));
    Status committed = db_.Commit(batch);
    if (!committed.ok()) {
      stream.shards.resize(old_count);
      return committed;
    }
  }
  for (ShardId id : closed_ids) Notify(id);
  return opened;
}

Result<std::vector<ShardId>> ShardLog::SplitShard(ShardId shard, HashKey new_starting) {
  ASSIGN_OR_RETURN(ShardInfo info, GetShard(shard));
  if (!info.open()) {
    return Status::FailedPrecondition("Shard " + std::to_string(shard.index) + " is closed");
  }
  if (new_starting <= info.hash_range.starting || new_starting > info.hash_range.ending) {
    return Status::InvalidArgument("The new starting hash key " + HashKeyToString(new_starting) +
                                   " is not inside the shard's hash key range");
  }
  return Reshard(
      shard.stream, {shard.index},
      {NewShard{.hash_range = {info.hash_range.starting, new_starting - 1}, .parent = shard.index},
       NewShard{.hash_range = {new_starting, info.hash_range.ending}, .parent = shard.index}});
}

Result<ShardId> ShardLog::MergeShards(ShardId shard, ShardId adjacent) {
  if (shard.stream != adjacent.stream)
    return Status::InvalidArgument("Shards of different streams");
  ASSIGN_OR_RETURN(ShardInfo a, GetShard(shard));
  ASSIGN_OR_RETURN(ShardInfo b, GetShard(adjacent));
  if (!a.open() || !b.open()) {
    return Status::FailedPrecondition(
        "Shard " + std::to_string(a.open() ? b.id.index : a.id.index) + " is closed");
  }
  HashKeyRange merged;
  if (a.hash_range.ending != kMaxHashKey && a.hash_range.ending + 1 == b.hash_range.starting) {
    merged = {a.hash_range.starting, b.hash_range.ending};
  } else if (b.hash_range.ending != kMaxHashKey &&
             b.hash_range.ending + 1 == a.hash_range.starting) {
    merged = {b.hash_range.starting, a.hash_range.ending};
  } else {
    return Status::InvalidArgument("The shards are not adjacent");
  }
  ASSIGN_OR_RETURN(std::vector<ShardId> children,
                   Reshard(shard.stream, {shard.index, adjacent.index},
                           {NewShard{.hash_range = merged,
                                     .parent = shard.index,
                                     .adjacent_parent = adjacent.index}}));
  return children.front();
}

// ---------------------------------------------------------------------------------------------
// Writing

Result<SequenceNumber> ShardLog::Append(kv::Batch& batch, ShardId shard_id,
                                        const RecordInput& record) {
  return AppendAll(batch, shard_id, std::span<const RecordInput>(&record, 1));
}

Result<SequenceNumber> ShardLog::AppendAll(kv::Batch& batch, ShardId shard_id,
                                           std::span<const RecordInput> records) {
  if (records.empty()) return Status::InvalidArgument("no records");
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> shard, FindShard(shard_id));
  const int64_t now = clock_.NowMillis();
  uint64_t first = 0;
  {
    MutexLock lock(shard->mu);
    if (shard->deleted) return Status::NotFound(NotFoundShard(shard_id));
    if (!shard->info.open()) {
      return Status::FailedPrecondition("Shard " + std::to_string(shard_id.index) + " is closed");
    }
    first = std::max(shard->last_assigned + 1, SequenceAtMillis(now).value);
    shard->last_assigned = first + records.size() - 1;
    // Only the lowest number of the run is pending: while it is, nothing above it is visible
    // (Publish), which holds the whole run back exactly as one entry per record would.
    shard->pending.insert(first);
  }
  std::string key = RecordKey(shard_id, first);
  const size_t seq_at = key.size() - 8;
  std::string value;
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordInput& record = records[i];
    key.resize(seq_at);
    kv::AppendUint64(&key, first + i);
    value.clear();
    value.reserve(12 + record.partition_key.size() + record.data.size());
    kv::AppendUint64(
        &value, static_cast<uint64_t>(now) | (record.rendered_on_read ? kRenderedOnReadBit : 0));
    AppendBytes(&value, record.partition_key);
    value.append(record.data);
    batch.Put(kv::Cf::kLog, key, value);
  }
  batch.OnCommit([this, shard, first](bool committed) { Publish(shard, first, committed); });
  return SequenceNumber{first};
}

Result<SequenceNumber> ShardLog::AppendAndCommit(ShardId shard, const RecordInput& record) {
  kv::Batch batch = db_.NewBatch();
  ASSIGN_OR_RETURN(SequenceNumber seq, Append(batch, shard, record));
  RETURN_IF_ERROR(db_.Commit(batch));
  return seq;
}

void ShardLog::Publish(const std::shared_ptr<ShardState>& shard, uint64_t seq, bool committed) {
  bool advanced = false;
  {
    MutexLock lock(shard->mu);
    shard->pending.erase(seq);
    // Everything below the lowest pending number is settled (committed or abandoned).
    uint64_t high = shard->pending.empty() ? shard->last_assigned : *shard->pending.begin() - 1;
    if (high > shard->visible_high) {
      shard->visible_high = high;
      advanced = true;
    }
  }
  if (advanced) Notify(shard->id());
}

void ShardLog::Notify(ShardId shard) {
  version_.fetch_add(1);
  if (waiters_.load() > 0) {
    // A waiter counted itself under wake_mu_ and then checks version_ before it sleeps: taking
    // the lock here orders this wake-up after its check, so it cannot be lost.
    { MutexLock lock(wake_mu_); }
    wake_cv_.notify_all();
  }
  std::shared_lock lock(listeners_mu_);
  for (const auto& [handle, listener] : listeners_) listener(shard);
}

// ---------------------------------------------------------------------------------------------
// Reading

Result<SequenceNumber> ShardLog::Resolve(ShardId shard_id, const StartPosition& position) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> shard, FindShard(shard_id));
  MutexLock lock(shard->mu);
  const uint64_t start = shard->info.starting_sequence.value;
  const uint64_t horizon = std::max(start, shard->trimmed_through + 1);
  auto check = [&](uint64_t seq) -> Status {
    if (seq < start || seq > shard->last_assigned) {
      return Status::InvalidArgument("Sequence number " + std::to_string(seq) +
                                     " is not in the range of shard " +
                                     std::to_string(shard_id.index));
    }
    return Status::Ok();
  };
  switch (position.type) {
    case StartPosition::Type::kTrimHorizon:
      return SequenceNumber{horizon};
    case StartPosition::Type::kLatest:
      return SequenceNumber{std::max(horizon, shard->visible_high + 1)};
    case StartPosition::Type::kAtSequence:
      RETURN_IF_ERROR(check(position.sequence.value));
      if (shard->trimmed_through != 0 && position.sequence.value <= shard->trimmed_through) {
        return Status::OutOfRange("Sequence number " + std::to_string(position.sequence.value) +
                                  " has been trimmed");
      }
      return position.sequence;
    case StartPosition::Type::kAfterSequence:
      RETURN_IF_ERROR(check(position.sequence.value));
      if (position.sequence.value < shard->trimmed_through) {
        return Status::OutOfRange("Sequence number " + std::to_string(position.sequence.value) +
                                  " has been trimmed");
      }
      return SequenceNumber{position.sequence.value + 1};
    case StartPosition::Type::kAtTimestamp:
      return SequenceNumber{std::max(horizon, SequenceAtMillis(position.timestamp_millis).value)};
  }
  return Status::InvalidArgument("Unknown start position");
}

Result<ReadResult> ShardLog::Read(ShardId shard_id, SequenceNumber from,
                                  const ReadLimits& limits) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> shard, FindShard(shard_id));
  uint64_t visible = 0;
  std::optional<SequenceNumber> ending;
  auto trimmed_past_from = [&]() REQUIRES(shard->mu) {
    return shard->trimmed_through != 0 && from.value <= shard->trimmed_through;
  };
  {
    MutexLock lock(shard->mu);
    if (shard->deleted) return Status::NotFound(NotFoundShard(shard_id));
    if (trimmed_past_from()) {
      return Status::OutOfRange("The records at sequence number " + std::to_string(from.value) +
                                " have been trimmed");
    }
    visible = shard->visible_high;
    ending = shard->info.ending_sequence;
  }
  ReadResult result;
  const int64_t now = clock_.NowMillis();
  bool limited = false;
  if (from.value <= visible) {
    std::string prefix = ShardPrefix(kRecordTag, shard_id);
    auto it = db_.NewIterator(kv::Cf::kLog, RecordKey(shard_id, from.value),
                              RecordKey(shard_id, visible + 1));
    int64_t bytes = 0;
    const int max_records = std::max(1, limits.max_records);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (static_cast<int>(result.records.size()) >= max_records) {
        limited = true;
        break;
      }
      Record record;
      record.sequence = {SequenceFromRecordKey(it->key())};
      bool rendered_on_read = false;
      if (!DecodeRecordValue(it->value(), &record.arrival_millis, &record.partition_key,
                             &record.data, &rendered_on_read)) {
        SPDLOG_ERROR("log: corrupt record {}", HexEncode(it->key()));
        return Status::Internal("corrupt record");
      }
      if (rendered_on_read) {
        if (!renderer_) return Status::Internal("a record to render and no renderer");
        ASSIGN_OR_RETURN(record.data, renderer_(record.data));
      }
      int64_t size = static_cast<int64_t>(record.data.size() + record.partition_key.size());
      if (!result.records.empty() && bytes + size > limits.max_bytes) {
        limited = true;
        result.millis_behind_latest = std::max<int64_t>(0, now - record.arrival_millis);
        break;
      }
      bytes += size;
      result.records.push_back(std::move(record));
    }
    RETURN_IF_ERROR(it->status());
    if (limited && result.millis_behind_latest == 0 && it->Valid()) {
      int64_t arrival = 0;
      std::string ignored_key, ignored_data;
      if (DecodeRecordValue(it->value(), &arrival, &ignored_key, &ignored_data)) {
        result.millis_behind_latest = std::max<int64_t>(0, now - arrival);
      }
    }
  }
  {
    // Trimming may have raced the scan: refuse rather than silently skip.
    MutexLock lock(shard->mu);
    if (trimmed_past_from()) {
      return Status::OutOfRange("The records at sequence number " + std::to_string(from.value) +
                                " have been trimmed");
    }
  }
  if (limited) {
    result.next = SequenceNumber{result.records.back().sequence.value + 1};
    return result;
  }
  if (ending && visible >= ending->value) return result;  // closed and fully read
  result.next = SequenceNumber{std::max(from.value, visible + 1)};
  return result;
}

Result<std::string> ShardLog::NewIterator(ShardId shard, const StartPosition& position) const {
  ASSIGN_OR_RETURN(SequenceNumber from, Resolve(shard, position));
  return EncodeIterator({.shard = shard, .next = from, .created_millis = clock_.NowMillis()});
}

Result<ShardLog::IteratorRead> ShardLog::ReadIterator(std::string_view token,
                                                      std::chrono::milliseconds ttl,
                                                      const ReadLimits& limits) const {
  ASSIGN_OR_RETURN(IteratorState state, DecodeIterator(token, clock_.NowMillis(), ttl));
  ASSIGN_OR_RETURN(ReadResult result, Read(state.shard, state.next, limits));
  IteratorRead out{.result = std::move(result), .state = state};
  if (out.result.next) {
    out.next_iterator = EncodeIterator(
        {.shard = state.shard, .next = *out.result.next, .created_millis = clock_.NowMillis()});
  }
  return out;
}

Result<SequenceNumber> ShardLog::VisibleHigh(ShardId shard_id) const {
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> shard, FindShard(shard_id));
  MutexLock lock(shard->mu);
  return SequenceNumber{shard->visible_high};
}

// ---------------------------------------------------------------------------------------------
// Wake-ups

bool ShardLog::WaitForRecords(ShardId shard_id, SequenceNumber from,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const uint64_t seen_version = version_.load();
    auto found = FindShard(shard_id);
    if (!found.ok()) return false;
    {
      std::shared_ptr<ShardState> shard = *found;
      MutexLock lock(shard->mu);
      if (shard->deleted) return false;
      if (shard->visible_high >= from.value) return true;
      if (!shard->info.open() && shard->pending.empty()) return false;
    }
    std::unique_lock lock(wake_mu_);
    waiters_.fetch_add(1);
    const bool woken =
        wake_cv_.wait_until(lock, deadline, [&] { return version_.load() != seen_version; });
    waiters_.fetch_sub(1);
    if (!woken) return false;
  }
}

uint64_t ShardLog::AddListener(Listener listener) {
  std::unique_lock lock(listeners_mu_);
  uint64_t handle = next_listener_++;
  listeners_[handle] = std::move(listener);
  return handle;
}

void ShardLog::RemoveListener(uint64_t handle) {
  std::unique_lock lock(listeners_mu_);
  listeners_.erase(handle);
}

// ---------------------------------------------------------------------------------------------
// Retention

Status ShardLog::TrimOnce() {
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, stream] : streams_) streams.push_back(stream);
  }
  const int64_t now = clock_.NowMillis();
  for (const auto& stream : streams) {
    std::chrono::hours retention;
    std::vector<std::shared_ptr<ShardState>> shards;
    {
      std::shared_lock lock(mu_);
      retention = stream->retention;
      shards = stream->shards;
    }
    const int64_t cutoff_millis =
        now - std::chrono::duration_cast<std::chrono::milliseconds>(retention).count();
    if (cutoff_millis <= 0) continue;
    for (const auto& shard : shards) {
      RETURN_IF_ERROR(TrimShard(*stream, *shard, SequenceAtMillis(cutoff_millis).value));
    }
  }
  return Status::Ok();
}

Status ShardLog::TrimBefore(ShardId shard_id, SequenceNumber before) {
  ASSIGN_OR_RETURN(std::shared_ptr<StreamState> stream, FindState(shard_id.stream));
  ASSIGN_OR_RETURN(std::shared_ptr<ShardState> shard, FindShard(shard_id));
  return TrimShard(*stream, *shard, before.value);
}

Status ShardLog::TrimShard(const StreamState& stream, ShardState& shard, uint64_t cutoff) {
  const ShardId id = shard.id();
  // Records with seq < cutoff arrived before the cutoff time (seq encodes arrival).
  auto it = db_.NewIterator(kv::Cf::kLog, RecordKey(id, 0), RecordKey(id, cutoff));
  it->SeekToLast();
  RETURN_IF_ERROR(it->status());
  if (!it->Valid()) return Status::Ok();
  const uint64_t last = SequenceFromRecordKey(it->key());
  {
    MutexLock lock(shard.mu);
    if (shard.deleted) return Status::Ok();
    // Never trim what readers cannot see yet.
    if (last > shard.visible_high) return Status::Ok();
    // Announced before the delete, so a reader racing it gets kOutOfRange, not a silent skip.
    shard.trimmed_through = std::max(shard.trimmed_through, last);
  }
  kv::Batch batch = db_.NewBatch();
  batch.DeleteRange(kv::Cf::kLog, RecordKey(id, 0), RecordKey(id, last + 1));
  std::string mark;
  kv::AppendUint64(&mark, last);
  batch.Put(kv::Cf::kLog, ShardPrefix(kTrimTag, id), mark);
  return db_.Commit(batch);
}

void ShardLog::Start() {
  MutexLock lock(trim_mu_);
  if (trimmer_.joinable()) return;
  stopping_ = false;
  trimmer_ = std::thread([this] {
    NameThisThread("sp-trim");
    TrimLoop();
  });
}

void ShardLog::Stop() {
  {
    MutexLock lock(trim_mu_);
    stopping_ = true;
  }
  trim_cv_.notify_all();
  if (trimmer_.joinable()) trimmer_.join();
}

void ShardLog::TrimLoop() {
  std::unique_lock lock(trim_mu_);
  while (!stopping_) {
    if (trim_cv_.wait_for(lock, options_.trim_interval, [this] { return stopping_; })) break;
    lock.unlock();
    Status status = TrimOnce();
    if (!status.ok()) SPDLOG_WARN("log: trimming failed: {}", status.message());
    lock.lock();
  }
}

}  // namespace salespipe::log
