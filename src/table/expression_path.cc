#include "table/expression_path.h"

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace salespipe::table {
namespace {

constexpr std::string_view kInvalidDocumentPath =
    "The document path provided in the update expression is invalid for update";

// Follows one step from `value`; nullptr when it doesn't apply.
template <typename V>
V* Step(V* value, const PathElement& element) {
  if (value == nullptr) return nullptr;
  if (element.is_index()) {
    if (value->type() != AttributeType::kList) return nullptr;
    auto& list = [&]() -> auto& {
      if constexpr (std::is_const_v<V>) {
        return value->list();
      } else {
        return value->mutable_list();
      }
    }
    ();
    return element.index() < list.size() ? &list[element.index()] : nullptr;
  }
  if (value->type() != AttributeType::kMap) return nullptr;
  auto& map = [&]() -> auto& {
    if constexpr (std::is_const_v<V>) {
      return value->map();
    } else {
      return value->mutable_map();
    }
  }
  ();
  auto it = map.find(element.name());
  return it == map.end() ? nullptr : &it->second;
}

template <typename M, typename V>
V* Find(M& item, const Path& path, size_t length) {
  if (length == 0 || path[0].is_index()) return nullptr;
  auto it = item.find(path[0].name());
  if (it == item.end()) return nullptr;
  V* value = &it->second;
  for (size_t i = 1; i < length && value != nullptr; ++i) value = Step(value, path[i]);
  return value;
}

}  // namespace

std::string PathToString(const Path& path) {
  std::string out = "[";
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) out += ", ";
    if (path[i].is_index()) {
      out += "[" + std::to_string(path[i].index()) + "]";
    } else {
      out += path[i].name();
    }
  }
  out += "]";
  return out;
}

const AttributeValue* FindAtPath(const Item& item, const Path& path) {
  return Find<const Item, const AttributeValue>(item, path, path.size());
}

AttributeValue* FindAtPath(Item& item, const Path& path) {
  return Find<Item, AttributeValue>(item, path, path.size());
}

Status SetAtPath(Item& item, const Path& path, AttributeValue value) {
  if (path.empty() || path[0].is_index()) {
    return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  }
  if (path.size() == 1) {
    item.insert_or_assign(path[0].name(), std::move(value));
    return Status::Ok();
  }
  AttributeValue* parent = Find<Item, AttributeValue>(item, path, path.size() - 1);
  const PathElement& last = path.back();
  if (parent == nullptr) return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  if (last.is_index()) {
    if (parent->type() != AttributeType::kList) {
      return Status::InvalidArgument(std::string(kInvalidDocumentPath));
    }
    auto& list = parent->mutable_list();
    if (last.index() < list.size()) {
      list[last.index()] = std::move(value);
    } else {
      list.push_back(std::move(value));  // DynamoDB appends past-the-end assignments
    }
    return Status::Ok();
  }
  if (parent->type() != AttributeType::kMap) {
    return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  }
  parent->mutable_map().insert_or_assign(last.name(), std::move(value));
  return Status::Ok();
}

Status RemoveAtPath(Item& item, const Path& path) {
  if (path.empty() || path[0].is_index()) {
    return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  }
  if (path.size() == 1) {
    item.erase(path[0].name());
    return Status::Ok();
  }
  AttributeValue* parent = Find<Item, AttributeValue>(item, path, path.size() - 1);
  const PathElement& last = path.back();
  if (parent == nullptr) return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  if (last.is_index()) {
    if (parent->type() != AttributeType::kList) {
      return Status::InvalidArgument(std::string(kInvalidDocumentPath));
    }
    auto& list = parent->mutable_list();
    if (last.index() < list.size()) list.erase(list.begin() + static_cast<ptrdiff_t>(last.index()));
    return Status::Ok();
  }
  if (parent->type() != AttributeType::kMap) {
    return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  }
  parent->mutable_map().erase(last.name());
  return Status::Ok();
}

PathRelation RelatePaths(const Path& a, const Path& b) {
  size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i].is_index() != b[i].is_index()) return PathRelation::kConflict;
    if (a[i] != b[i]) return PathRelation::kDisjoint;
  }
  return PathRelation::kOverlap;
}

bool PathLess(const Path& a, const Path& b) {
  size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i].is_index() != b[i].is_index()) return a[i].is_index();
    if (a[i].is_index()) return a[i].index() < b[i].index();
    return a[i].name() < b[i].name();
  }
  return a.size() < b.size();
}

}  // namespace salespipe::table
