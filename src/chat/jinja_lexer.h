// The Jinja lexer: splits template source into text and tag tokens, applying whitespace control
// (-, +), trim_blocks and lstrip_blocks exactly as jinja2 does, with line/column of every token.
#pragma once

#include <string>
#include <vector>

namespace tsft::jinja {

enum class TokenType { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  TokenType type;
  std::string value;  // text, name, decoded string literal, number spelling or operator
  int line = 1;
  int col = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws tsft::Error "name:line:col: message" on a malformed tag or literal.
std::vector<Token> tokenize(const std::string& source, const std::string& name,
                            const LexOptions& opts = {});

}  // namespace tsft::jinja
