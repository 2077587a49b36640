// The pieces ToolCallGrammar (compile) and ToolCallMatcher (match) share: a schema compiled into
// nodes, and the matcher's configurations (an envelope state plus a stack of JSON frames).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/regex_prefix.h"
#include "chat/value_prefix.h"

namespace tsft::grammar_detail {

enum TypeBits : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kInteger = 4,
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
  kAnyType = 127,
};

enum class StringFormat : uint8_t { kNone, kDate, kDateTime };

// One schema, compiled. Child pointers point into the owning grammar's node list; a null
// items / additional pointer means "any value".
struct Node {
  uint8_t types = kAnyType;
  std::vector<const Node*> any_of;  // non-empty: the value is one of these (the rest is unused)

  // enum / const: the texts a model may write for them (compact and ", "/": " spacing)
  bool has_literals = false;
  std::vector<std::string> literals;
  size_t literal_values = 0;  // distinct values behind `literals`

  // strings
  int64_t min_length = 0, max_length = -1;
  std::shared_ptr<const RegexPrefix> pattern;  // followed byte by byte
  std::string pattern_at_close;                // a pattern RegexPrefix cannot compile
  StringFormat format = StringFormat::kNone;

  // numbers
  NumberBounds bounds;

  // arrays
  const Node* items = nullptr;
  int64_t min_items = 0, max_items = -1;
  bool unique_items = false;

  // objects
  std::vector<std::string> prop_names;
  std::vector<std::string> key_texts;  // each name as JSON text, quotes included
  std::vector<const Node*> prop_nodes;
  std::vector<uint8_t> required;
  bool ordered = false;  // keys in declaration order (the call object: name, then arguments)
  bool additional_allowed = false;
  const Node* additional = nullptr;

  // How many distinct values the node allows, 0 = unbounded (for uniqueItems arrays).
  size_t finite_values() const;
};

enum class FrameKind : uint8_t { kValue, kObject, kArray, kString, kNumber, kLiteral };

// Object phases: after '{', inside a key, before ':', inside a value, after a value, after ','.
enum ObjectPhase : uint8_t { kObjStart, kObjKey, kObjColon, kObjValue, kObjAfter, kObjNext };
// Array phases: after '[', inside an item, after an item, after ','.
enum ArrayPhase : uint8_t { kArrStart, kArrItem, kArrAfter, kArrNext };

struct Frame {
  const Node* node = nullptr;
  FrameKind kind = FrameKind::kValue;
  uint8_t phase = 0;
  uint8_t ws = 0;      // whitespace bytes in the current run
  bool key = false;    // a string or literal that is an object's key
  uint8_t escape = 0;  // string: 0, 1 after '\', 2-5 reading \u hex digits
  uint8_t utf8_left = 0;
  uint8_t utf8_length = 0;  // bytes of the character being read
  uint32_t code_point = 0;
  int32_t count = 0;  // string: characters; array: items
  int32_t prop = -1;  // object: the property being read, -2 an additional one
  const std::vector<std::string>* candidates = nullptr;  // literal
  std::string text;  // literal / number: as written; string: decoded
  std::vector<uint8_t> used;              // object: properties already given
  std::vector<std::string> extra_keys;    // object: additional keys already given
  RegexPrefix::State regex;               // string with a pattern
  std::vector<nlohmann::json> seen;       // array with uniqueItems: items so far
  std::string item_text;                  // array with uniqueItems: the item being written
};

// Where a reply is outside the JSON of a call.
enum class Envelope : uint8_t {
  kText,     // plain text (auto / none); `pos` = how much of the open marker the text ends with
  kLead,     // before the first call (required / named, or Llama 3 syntax): whitespace only
  kFree,     // Llama 3 syntax, auto: the reply is text, no call can follow
  kOpen,     // partway through the open marker (`pos` bytes of it)
  kOpenWs,   // after the open marker, before the call's '{'
  kJson,     // inside the call object (the stack is not empty)
  kCloseWs,  // after the call object, before the close marker
  kClose,    // partway through the close marker
  kAfter,    // after a call: whitespace, another call, or the end
};

struct Config {
  Envelope env = Envelope::kText;
  uint16_t pos = 0;
  uint8_t ws = 0;
  int32_t calls = 0;
  int32_t unique_arrays = 0;  // frames on the stack with uniqueItems (item text to record)
  std::vector<Frame> stack;
};

}  // namespace tsft::grammar_detail
