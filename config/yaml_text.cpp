// Parsing YAML text into one alias-free tree; tags and positions (yaml_text.h).
#include "config/yaml_text.h"

#include <yaml-cpp/eventhandler.h>

#include <cctype>
#include <cstdio>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace pipeline {
namespace {

const std::string kStrTag = "tag:yaml.org,2002:str";
// Alias copies carry "tag:pipeline,at:LINE:COL:" + the tag the text gave.
const std::string kPositionTag = "tag:pipeline,at:";
// Override nodes' tags (config/internal.h's kOverrideTag) start with this.
const std::string kPipelineTag = "tag:pipeline,";

// A problem in the text: where (line 0: the text as a whole) and what.
struct YamlError {
  int line = 0, col = 0;
  std::string message;
};

Status ToStatus(const YamlError& e, const std::string& path) {
  if (e.line == 0) return Status::InvalidArgument(path + ": error: " + e.message);
  return Status::InvalidArgument(fmt::format("{}:{}:{}: error: {}", path, e.line, e.col, e.message));
}

// Thrown from inside yaml-cpp's parser by the event handler below.
struct TooDeep {
  YAML::Mark mark;
};

// Counts documents, aliases and nesting while yaml-cpp parses; nothing is built.
struct ShapeEvents : YAML::EventHandler {
  int depth = 0;
  int64_t aliases = 0;
  void Open(const YAML::Mark& mark) {
    if (++depth > kMaxYamlDepth) throw TooDeep{mark};
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { ++aliases; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Open(m);
  }
  void OnSequenceEnd() override { --depth; }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Open(m);
  }
  void OnMapEnd() override { --depth; }
};

// Length of the valid UTF-8 sequence at s[i], 0 if it is not one (overlong
// forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// The first byte that is not part of valid UTF-8, with its line and column
// (columns count characters, as an editor shows them).
bool CheckUtf8(const std::string& text, YamlError* error) {
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      *error = {line, col, fmt::format("invalid UTF-8 at byte offset {} (byte 0x{:02x}): YAML text must be UTF-8", i,
                                       static_cast<unsigned char>(text[i]))};
      return false;
    }
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
    i += n;
  }
  return true;
}

// yaml-cpp 0.7's LoadAll never returns when a document's first token is ','
// (found by fuzz/fuzz_config; a stray comma anywhere else is a parse error).
// So find each document's first significant character before it parses.
bool CheckDocumentStarts(const std::string& text, YamlError* error) {
  std::istringstream in(text);
  std::string line;
  bool at_start = true;  // before the current document's first token
  for (int number = 1; std::getline(in, line); ++number) {
    size_t col = 0;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) col = 3;  // UTF-8 byte-order mark
    if (line.compare(col, 3, "---") == 0 && (line.size() == col + 3 || std::isspace(static_cast<unsigned char>(line[col + 3])))) {
      at_start = true;
      col += 3;
    } else if (at_start && line.compare(col, 1, "%") == 0) {
      continue;  // a directive
    }
    if (!at_start) continue;
    col = line.find_first_not_of(" \t\r", col);
    if (col == std::string::npos || line[col] == '#') continue;
    if (line[col] == ',') {
      *error = {number, static_cast<int>(col + 1),
                "invalid YAML: a document cannot begin with ',' (a flow separator outside [...] or {...})"};
      return false;
    }
    at_start = false;
  }
  return true;
}

class AliasExpander {
 public:
  explicit AliasExpander(YamlError* error) : error_(error) {}

  bool Copy(const YAML::Node& in, YAML::Node* out) {
    const YamlPosition at = PositionOf(in);
    auto fail = [&](const std::string& message) {
      *error_ = {at.line, at.col, message};
      return false;
    };
    for (const YAML::Node& a : ancestors_)
      if (a.is(in)) return fail("an alias refers to a node that contains it (a cycle)");
    if (static_cast<int>(ancestors_.size()) >= kMaxYamlDepth)
      return fail(fmt::format("expanding aliases nests values more than {} levels deep", kMaxYamlDepth));
    if (++nodes_ > kMaxYamlNodes)
      return fail(fmt::format("expanding aliases gives more than {} YAML nodes (an alias bomb?)", kMaxYamlNodes));
    YAML::Node copy;
    switch (in.Type()) {
      case YAML::NodeType::Scalar:
        copy = YAML::Node(in.Scalar());
        break;
      case YAML::NodeType::Sequence:
        copy = YAML::Node(YAML::NodeType::Sequence);
        ancestors_.push_back(in);
        for (const auto& child : in) {
          YAML::Node c;
          if (!Copy(child, &c)) return false;
          copy.push_back(c);
        }
        ancestors_.pop_back();
        break;
      case YAML::NodeType::Map:
        copy = YAML::Node(YAML::NodeType::Map);
        ancestors_.push_back(in);
        for (auto it = in.begin(); it != in.end(); ++it) {
          YAML::Node k, v;
          if (!Copy(it->first, &k) || !Copy(it->second, &v)) return false;
          copy.force_insert(k, v);  // keeps duplicate keys, which the validator reports
        }
        ancestors_.pop_back();
        break;
      default:
        copy = YAML::Node(YAML::NodeType::Null);
        break;
    }
    const std::string& tag = in.Tag();
    if (tag.rfind(kPipelineTag, 0) == 0 && tag.rfind(kPositionTag, 0) != 0) {
      copy.SetTag(tag);  // an override's node: its tag is its position
    } else if (at.line > 0) {
      // A quoted scalar keeps yaml-cpp's "!" (IsQuotedScalar); SourceTag reads it as no tag.
      copy.SetTag(fmt::format("{}{}:{}:{}", kPositionTag, at.line, at.col, tag == "!" ? tag : SourceTag(in)));
    } else {
      copy.SetTag(tag);
    }
    out->reset(copy);
    return true;
  }

 private:
  YamlError* error_;
  std::vector<YAML::Node> ancestors_;
  int64_t nodes_ = 0;
};

// One document of YAML text, checked and with aliases expanded. A null
// document (empty text, only comments, "~") is fine here.
bool ParseDocument(const std::string& text, YAML::Node* root, YamlError* error) {
  // YAML text never holds a NUL; yaml-cpp 0.7 can loop forever on one.
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    *error = {0, 0, fmt::format("byte offset {} is a NUL byte: not a YAML text file", nul)};
    return false;
  }
  if (!CheckUtf8(text, error) || !CheckDocumentStarts(text, error)) return false;
  YAML::Node parsed;
  ShapeEvents shape;
  try {
    // Count documents with a bounded loop: on some malformed input yaml-cpp's
    // parser reports a new empty document on every call without consuming
    // anything, so its own LoadAll never returns (found by fuzz/fuzz_config).
    YAML::Parser parser;
    std::istringstream stream(text);
    parser.Load(stream);
    int documents = 0;
    while (documents < 2 && parser.HandleNextDocument(shape)) ++documents;
    if (documents > 1) {
      *error = {0, 0, "expected one YAML document, found more (separated by ---)"};
      return false;
    }
    parsed = YAML::Load(text);
  } catch (const TooDeep& e) {
    *error = {e.mark.line + 1, e.mark.column + 1,
              fmt::format("invalid YAML: nested more than {} levels deep (a pipeline config needs about 5)",
                          kMaxYamlDepth)};
    return false;
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) *error = {0, 0, "invalid YAML: " + e.msg};
    else *error = {e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg};
    return false;
  }
  if (shape.aliases > 0) {
    YAML::Node expanded;
    AliasExpander expander(error);
    if (!expander.Copy(parsed, &expanded)) return false;
    parsed.reset(expanded);
  }
  root->reset(parsed);
  return true;
}

}  // namespace

Status ParseYamlText(const std::string& text, const std::string& path, const std::string& noun, YAML::Node* root) {
  if (text.empty()) return ToStatus({0, 0, noun + " is empty"}, path);
  YAML::Node parsed;
  YamlError error;
  if (!ParseDocument(text, &parsed, &error)) return ToStatus(error, path);
  if (!parsed.IsDefined() || parsed.IsNull())
    return ToStatus({0, 0, noun + " has no YAML content (only blank lines or comments)"}, path);
  root->reset(parsed);
  return Status::Ok();
}

bool ParseYamlValue(const std::string& text, YAML::Node* out, std::string* error) {
  YamlError e;
  if (ParseDocument(text, out, &e)) return true;
  *error = e.message.rfind("invalid YAML: ", 0) == 0 ? e.message.substr(14) : e.message;
  return false;
}

YamlPosition PositionOf(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  const std::string& tag = node.Tag();
  if (tag.rfind(kPositionTag, 0) == 0) {
    YamlPosition p;
    if (std::sscanf(tag.c_str() + kPositionTag.size(), "%d:%d:", &p.line, &p.col) == 2) return p;
    return {};
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string SourceTag(const YAML::Node& node) {
  if (!node.IsDefined()) return "";
  std::string tag = node.Tag();
  if (tag.rfind(kPositionTag, 0) == 0) {
    const size_t first = tag.find(':', kPositionTag.size());
    const size_t second = first == std::string::npos ? first : tag.find(':', first + 1);
    tag = second == std::string::npos ? "" : tag.substr(second + 1);
  } else if (tag.rfind(kPipelineTag, 0) == 0) {
    return "";  // an override's node: ApplyOverride checked the value's own tag
  }
  return tag == "?" || tag == "!" ? "" : tag;
}

bool IsStrTag(const std::string& source_tag) { return source_tag == kStrTag; }

bool IsQuotedScalar(const YAML::Node& node) {
  if (!node.IsDefined() || !node.IsScalar()) return false;
  const std::string& tag = node.Tag();
  if (tag.rfind(kPositionTag, 0) != 0) return tag == "!";
  const size_t first = tag.find(':', kPositionTag.size());
  const size_t second = first == std::string::npos ? first : tag.find(':', first + 1);
  return second != std::string::npos && tag.compare(second + 1, std::string::npos, "!") == 0;
}

std::string ShortTag(const std::string& tag) {
  const std::string core = "tag:yaml.org,2002:";
  return tag.rfind(core, 0) == 0 ? "!!" + tag.substr(core.size()) : tag;
}

std::string TagProblem(const YAML::Node& node) {
  const std::string tag = SourceTag(node);
  if (tag.empty()) return "";
  if (IsStrTag(tag)) {
    if (node.IsScalar() || node.IsNull()) return "";
    return fmt::format("!!str makes a scalar a string; it cannot tag {}", node.IsMap() ? "a map" : "a list");
  }
  return fmt::format("YAML tag '{}' is not supported (pipeline accepts only !!str, which makes a value a string)",
                     ShortTag(tag));
}

}  // namespace pipeline
