#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Just enough XML for S3 request and response bodies. Pure; thread-safe.
namespace salespipe::services::s3 {

// Appends `text` with &, <, >, ", ' and control characters escaped.
void AppendEscaped(std::string* out, std::string_view text);

// Builds a document: Open/Text/Close in order. The first Open gets S3's namespace.
class XmlWriter {
 public:
  explicit XmlWriter(std::string_view root);
  XmlWriter& Open(std::string_view name);
  XmlWriter& Close(std::string_view name);
  // <name>text</name>
  XmlWriter& Element(std::string_view name, std::string_view text);
  std::string Finish(std::string_view root);

 private:
  std::string out_;
};

// A parsed element: name without namespace prefix, text content, children.
struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  const XmlNode* Child(std::string_view child_name) const;
  std::vector<const XmlNode*> Children(std::string_view child_name) const;
};

// Parses a document (declaration, comments and attributes are skipped; entities and
// character references decoded). nullopt when malformed.
std::optional<XmlNode> ParseXml(std::string_view text);

}  // namespace salespipe::services::s3
