#include "services/s3/xml.h"

#include <cstdint>

namespace salespipe::services::s3 {
namespace {

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes entities in `raw` into `out`; false on a malformed reference.
bool DecodeText(std::string_view raw, std::string* out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out->push_back(raw[i]);
      continue;
    }
    size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos) return false;
    std::string_view entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "amp") out->push_back('&');
    else if (entity == "lt") out->push_back('<');
    else if (entity == "gt") out->push_back('>');
    else if (entity == "quot") out->push_back('"');
    else if (entity == "apos") out->push_back('\'');
    else if (entity.size() > 1 && entity[0] == '#') {
      uint32_t cp = 0;
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) return false;
      for (char c : digits) {
        int v = c >= '0' && c <= '9'   ? c - '0'
                : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                              : -1;
        if (v < 0) return false;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      }
      if (cp > 0x10FFFF) return false;
      AppendUtf8(out, cp);
    } else {
      return false;
    }
    i = semi;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<XmlNode> Document() {
    SkipMisc();
    XmlNode root;
    if (!Element(&root, 0)) return std::nullopt;
    SkipMisc();
    if (pos_ != s_.size()) return std::nullopt;
    return root;
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' ||
                                s_[pos_] == '\t'))
      ++pos_;
  }
  // Whitespace, the declaration, processing instructions and comments.
  void SkipMisc() {
    while (true) {
      SkipSpace();
      if (s_.substr(pos_, 2) == "<?") {
        size_t end = s_.find("?>", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (s_.substr(pos_, 4) == "<!--") {
        size_t end = s_.find("-->", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 3;
      } else {
        return;
      }
    }
  }
  std::string_view Name() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '>' && s_[pos_] != '/' && s_[pos_] != ' ' &&
           s_[pos_] != '\t' && s_[pos_] != '\n' && s_[pos_] != '\r')
      ++pos_;
    std::string_view name = s_.substr(start, pos_ - start);
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
  }
  bool Element(XmlNode* node, int depth) {
    if (depth > 32 || pos_ >= s_.size() || s_[pos_] != '<') return false;
    ++pos_;
    std::string_view raw_start = s_.substr(pos_);
    node->name = std::string(Name());
    if (node->name.empty()) return false;
    // Attributes are skipped (quoted values may contain '>').
    while (pos_ < s_.size() && s_[pos_] != '>' && !(s_[pos_] == '/' && pos_ + 1 < s_.size() &&
                                                    s_[pos_ + 1] == '>')) {
      if (s_[pos_] == '"' || s_[pos_] == '\'') {
        size_t end = s_.find(s_[pos_], pos_ + 1);
        if (end == std::string_view::npos) return false;
        pos_ = end;
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) return false;
    if (s_[pos_] == '/') {
      pos_ += 2;
      return true;
    }
    ++pos_;
    (void)raw_start;
    std::string full_name;
    while (true) {
      size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) return false;
      if (!DecodeText(s_.substr(pos_, lt - pos_), &node->text)) return false;
      pos_ = lt;
      if (s_.substr(pos_, 4) == "<!--") {
        size_t end = s_.find("-->", pos_);
        if (end == std::string_view::npos) return false;
        pos_ = end + 3;
        continue;
      }
      if (s_.substr(pos_, 9) == "<![CDATA[") {
        size_t end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) return false;
        node->text.append(s_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
        continue;
      }
      if (s_.substr(pos_, 2) == "</") {
        pos_ += 2;
        std::string_view close = Name();
        SkipSpace();
        if (close != node->name || pos_ >= s_.size() || s_[pos_] != '>') return false;
        ++pos_;
        return true;
      }
      XmlNode child;
      if (!Element(&child, depth + 1)) return false;
      node->children.push_back(std::move(child));
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

void AppendEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&apos;"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out->append("&#x");
          out->push_back(kHex[(c >> 4) & 0xF]);
          out->push_back(kHex[c & 0xF]);
          out->push_back(';');
        } else {
          out->push_back(c);
        }
    }
  }
}

XmlWriter::XmlWriter(std::string_view root) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_.append(root);
  out_.append(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_.push_back('<');
  out_.append(name);
  out_.push_back('>');
  return *this;
}

XmlWriter& XmlWriter::Close(std::string_view name) {
  out_.append("</");
  out_.append(name);
  out_.push_back('>');
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  Open(name);
  AppendEscaped(&out_, text);
  return Close(name);
}

std::string XmlWriter::Finish(std::string_view root) {
  Close(root);
  return std::move(out_);
}

const XmlNode* XmlNode::Child(std::string_view child_name) const {
  for (const XmlNode& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::Children(std::string_view child_name) const {
  std::vector<const XmlNode*> out;
  for (const XmlNode& child : children) {
    if (child.name == child_name) out.push_back(&child);
  }
  return out;
}

std::optional<XmlNode> ParseXml(std::string_view text) { return Parser(text).Document(); }

}  // namespace salespipe::services::s3
