#include "services/iam/query.h"

#include <charconv>
#include <ctime>

#include "http/errors.h"

namespace salespipe::services::iam {

using http::AppendXmlEscaped;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Validation(std::string message) {
  return Status::InvalidArgument(std::move(message)).WithAwsCode("ValidationError");
}

}  // namespace

std::string FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

QueryParams QueryParams::Parse(std::string_view query_string, std::string_view body) {
  QueryParams params;
  for (std::string_view text : {query_string, body}) {
    size_t pos = 0;
    while (pos <= text.size() && !text.empty()) {
      size_t amp = text.find('&', pos);
      std::string_view pair =
          text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        std::string name = FormDecode(pair.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
        params.values_[std::move(name)] = std::move(value);
      }
      if (amp == std::string_view::npos) break;
      pos = amp + 1;
    }
  }
  return params;
}

std::optional<std::string_view> QueryParams::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<std::string_view> QueryParams::Required(std::string_view name) const {
  std::optional<std::string_view> value = Get(name);
  if (!value) {
    std::string member(name);
    if (!member.empty()) member[0] = static_cast<char>(std::tolower(member[0]));
    return Validation("1 validation error detected: Value null at '" + member +
                      "' failed to satisfy constraint: Member must not be null");
  }
  return *value;
}

Result<std::optional<int64_t>> QueryParams::Integer(std::string_view name, int64_t min,
                                                    int64_t max) const {
  std::optional<std::string_view> text = Get(name);
  if (!text) return std::optional<int64_t>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  std::string member(name);
  if (!member.empty()) member[0] = static_cast<char>(std::tolower(member[0]));
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Validation("1 validation error detected: Value '" + std::string(*text) + "' at '" +
                      member + "' failed to satisfy constraint: Member must be a number");
  }
  if (value < min) {
    return Validation("1 validation error detected: Value '" + std::string(*text) + "' at '" +
                      member +
                      "' failed to satisfy constraint: Member must have value greater than or "
                      "equal to " +
                      std::to_string(min));
  }
  if (value > max) {
    return Validation("1 validation error detected: Value '" + std::string(*text) + "' at '" +
                      member +
                      "' failed to satisfy constraint: Member must have value less than or equal "
                      "to " +
                      std::to_string(max));
  }
  return std::optional<int64_t>(value);
}

std::vector<std::string_view> QueryParams::List(std::string_view name) const {
  std::vector<std::string_view> out;
  for (int i = 1;; ++i) {
    std::optional<std::string_view> value = Get(std::string(name) + ".member." + std::to_string(i));
    if (!value) break;
    out.push_back(*value);
  }
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> QueryParams::Tags(
    std::string_view name) const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (int i = 1;; ++i) {
    std::string prefix = std::string(name) + ".member." + std::to_string(i);
    std::optional<std::string_view> key = Get(prefix + ".Key");
    std::optional<std::string_view> value = Get(prefix + ".Value");
    if (!key && !value) break;
    out.emplace_back(key.value_or(""), value.value_or(""));
  }
  return out;
}

std::string IsoDate(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, n);
}

QueryXmlWriter::QueryXmlWriter(std::string_view action, std::string_view xml_namespace, bool result)
    : action_(action), result_(result) {
  out_.reserve(512);
  out_.append("<").append(action_).append("Response xmlns=\"").append(xml_namespace).append("\">");
  if (result_) out_.append("<").append(action_).append("Result>");
}

QueryXmlWriter& QueryXmlWriter::Open(std::string_view name) {
  out_.append("<").append(name).append(">");
  return *this;
}

QueryXmlWriter& QueryXmlWriter::Close(std::string_view name) {
  out_.append("</").append(name).append(">");
  return *this;
}

QueryXmlWriter& QueryXmlWriter::Element(std::string_view name, std::string_view text) {
  out_.append("<").append(name).append(">");
  AppendXmlEscaped(&out_, text);
  out_.append("</").append(name).append(">");
  return *this;
}

std::string QueryXmlWriter::Finish(std::string_view request_id) {
  if (result_) out_.append("</").append(action_).append("Result>");
  out_.append("<ResponseMetadata><RequestId>");
  AppendXmlEscaped(&out_, request_id);
  out_.append("</RequestId></ResponseMetadata></").append(action_).append("Response>");
  return std::move(out_);
}

std::string QueryErrorBody(std::string_view xml_namespace, bool sender_fault, std::string_view code,
                           std::string_view message, std::string_view request_id) {
  std::string out = "<ErrorResponse xmlns=\"" + std::string(xml_namespace) + "\"><Error><Type>";
  out.append(sender_fault ? "Sender" : "Receiver").append("</Type><Code>");
  AppendXmlEscaped(&out, code);
  out.append("</Code><Message>");
  AppendXmlEscaped(&out, message);
  out.append("</Message></Error><RequestId>");
  AppendXmlEscaped(&out, request_id);
  out.append("</RequestId></ErrorResponse>");
  return out;
}

}  // namespace salespipe::services::iam
