#include "delivery/jq.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

namespace salespipe::delivery {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  static bool IdentStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  static bool IdentChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  }
  // An identifier right at pos_ (no leading space).
  Result<std::string> Identifier() {
    if (pos_ >= text_.size() || !IdentStart(text_[pos_])) return Error("an identifier");
    size_t start = pos_;
    while (pos_ < text_.size() && IdentChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  // A JSON string with simple escapes, right at pos_.
  Result<std::string> String() {
    if (pos_ >= text_.size() || text_[pos_] != '"') return Error("a string");
    ++pos_;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        char e = text_[pos_++];
        switch (e) {
          case '"': case '\\': case '/': out.push_back(e); break;
          case 'n': out.push_back('\n'); break;
          case 't': out.push_back('\t'); break;
          default: return Error("a supported string escape");
        }
        continue;
      }
      out.push_back(c);
    }
    if (pos_ >= text_.size()) return Error("a closing quote");
    ++pos_;
    return out;
  }
  Result<size_t> Index() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) &&
           pos_ - start < 9) {
      ++pos_;
    }
    if (pos_ == start) return Error("an index");
    return static_cast<size_t>(std::stoul(std::string(text_.substr(start, pos_ - start))));
  }
  Status Error(std::string_view expected) const {
    return Status::InvalidArgument("Invalid MetadataExtractionQuery: expected " +
                                   std::string(expected) + " at position " +
                                   std::to_string(pos_));
  }
  size_t pos() const { return pos_; }
  std::string_view text() const { return text_; }
  void Advance() { ++pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<JqQuery> JqQuery::Parse(std::string_view text) {
  if (text.size() > 4096) return Status::InvalidArgument("MetadataExtractionQuery is too long");
  Parser p(text);
  JqQuery query;
  if (!p.Consume('{')) return p.Error("'{'");
  while (true) {
    Field field;
    p.SkipSpace();
    if (p.Peek() == '"') {
      ASSIGN_OR_RETURN(field.key, p.String());
    } else {
      ASSIGN_OR_RETURN(field.key, p.Identifier());
    }
    if (!p.Consume(':')) return p.Error("':'");
    if (!p.Consume('.')) return p.Error("a path starting with '.'");
    if (p.pos() < p.text().size() && p.text()[p.pos()] == '.') {
      return p.Error("a field name after '.'");  // ".." (recursive descent) is not supported
    }
    // Steps: right after the first '.', an identifier or string may follow directly.
    bool first = true;
    while (true) {
      if (p.pos() < p.text().size()) {
        char c = p.text()[p.pos()];
        if (first && Parser::IdentStart(c)) {
          Step step;
          ASSIGN_OR_RETURN(step.name, p.Identifier());
          field.path.push_back(std::move(step));
          first = false;
          continue;
        }
        if (first && c == '"') {
          Step step;
          ASSIGN_OR_RETURN(step.name, p.String());
          field.path.push_back(std::move(step));
          first = false;
          continue;
        }
      }
      first = false;
      if (p.pos() < p.text().size() && p.text()[p.pos()] == '.') {
        p.Advance();
        first = true;
        if (p.pos() >= p.text().size() ||
            !(Parser::IdentStart(p.text()[p.pos()]) || p.text()[p.pos()] == '"')) {
          return p.Error("a field name after '.'");
        }
        continue;
      }
      if (p.pos() < p.text().size() && p.text()[p.pos()] == '[') {
        p.Advance();
        Step step;
        p.SkipSpace();
        if (p.Peek() == '"') {
          ASSIGN_OR_RETURN(step.name, p.String());
        } else {
          step.is_index = true;
          ASSIGN_OR_RETURN(step.index, p.Index());
        }
        if (!p.Consume(']')) return p.Error("']'");
        field.path.push_back(std::move(step));
        continue;
      }
      break;
    }
    for (const Field& existing : query.fields_) {
      if (existing.key == field.key) {
        return Status::InvalidArgument("Invalid MetadataExtractionQuery: duplicate key " +
                                       field.key);
      }
    }
    query.fields_.push_back(std::move(field));
    if (p.Consume(',')) continue;
    if (p.Consume('}')) break;
    return p.Error("',' or '}'");
  }
  if (!p.AtEnd()) return p.Error("the end of the query");
  if (query.fields_.size() > 50) {
    return Status::InvalidArgument("MetadataExtractionQuery has too many keys");
  }
  return query;
}

Result<std::map<std::string, std::string>> JqQuery::Evaluate(std::string_view record) const {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseStopWhenDoneFlag>(record.data(), record.size());
  if (doc.HasParseError()) return Status::InvalidArgument("Non JSON record provided");
  std::map<std::string, std::string> out;
  for (const Field& field : fields_) {
    const rapidjson::Value* value = &doc;
    for (const Step& step : field.path) {
      if (step.is_index) {
        if (!value->IsArray() || step.index >= value->Size()) { value = nullptr; break; }
        value = &(*value)[static_cast<rapidjson::SizeType>(step.index)];
      } else {
        if (!value->IsObject()) { value = nullptr; break; }
        auto it = value->FindMember(rapidjson::StringRef(step.name.data(),
                                                         static_cast<rapidjson::SizeType>(step.name.size())));
        if (it == value->MemberEnd()) { value = nullptr; break; }
        value = &it->value;
      }
    }
    if (value == nullptr || value->IsNull()) {
      return Status::InvalidArgument("The partition key " + field.key + " evaluated to null");
    }
    if (value->IsString()) {
      out[field.key] = std::string(value->GetString(), value->GetStringLength());
    } else if (value->IsNumber() || value->IsBool()) {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      value->Accept(writer);
      out[field.key] = buffer.GetString();
    } else {
      return Status::InvalidArgument("The partition key " + field.key +
                                     " evaluated to an object or an array");
    }
  }
  return out;
}

std::vector<std::string> JqQuery::keys() const {
  std::vector<std::string> out;
  for (const Field& field : fields_) out.push_back(field.key);
  return out;
}

}  // namespace salespipe::delivery
