#include "template/lexer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "template/pystr.h"

namespace hearth::tmpl {

std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

SourceLocation locate(std::string_view source, uint32_t offset) {
  SourceLocation loc{1, 1};
  size_t line_start = 0;
  const size_t end = std::min<size_t>(offset, source.size());
  for (size_t i = 0; i < end; ++i) {
    if (source[i] == '\n') {
      ++loc.line;
      line_start = i + 1;
    }
  }
  loc.column = 1 + static_cast<int>(py::length(source.substr(line_start, end - line_start)));
  return loc;
}

std::string describe_token(const Token& token) {
  switch (token.type) {
    case TokenType::Data: return "template data / text";
    case TokenType::VariableBegin: return "begin of print statement";
    case TokenType::VariableEnd: return "end of print statement";
    case TokenType::BlockBegin: return "begin of statement block";
    case TokenType::BlockEnd: return "end of statement block";
    case TokenType::Name: return token.text;
    case TokenType::String: return "string";
    case TokenType::Integer: return "integer";
    case TokenType::Float: return "float";
    case TokenType::Operator: return token.text;
    case TokenType::End: return "end of template";
  }
  return "token";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
 public:
  Lexer(std::string_view src, const LexerOptions& options) : src_(src), options_(options) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_root();
    push(TokenType::End, src_.size(), "");
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(size_t offset, std::string message) {
    throw LexError{std::move(message), static_cast<uint32_t>(offset)};
  }

  void push(TokenType type, size_t offset, std::string text) {
    tokens_.push_back(Token{type, static_cast<uint32_t>(offset), std::move(text)});
  }

  bool starts_with(size_t at, std::string_view s) const { return src_.substr(at, s.size()) == s; }

  // Python's \s at `at`: length in bytes of the whitespace character there, or 0.
  size_t space_at(size_t at) const {
    if (at >= src_.size()) return 0;
    size_t next = at;
    const char32_t cp = py::next_code_point(src_, next);
    return py::is_space(cp) ? next - at : 0;
  }
  size_t skip_spaces(size_t at) const {
    while (size_t n = space_at(at)) at += n;
    return at;
  }

  // Applies `{%-` stripping or lstrip_blocks to the text before a tag, then emits it.
  void emit_text_before_tag(size_t start, size_t tag, char sign, bool is_variable) {
    std::string_view text = src_.substr(start, tag - start);
    if (sign == '-') {
      text = rstrip_spaces(text);
    } else if (sign != '+' && options_.lstrip_blocks && !is_variable) {
      const size_t newline = text.rfind('\n');
      const size_t line_begin = newline == std::string_view::npos ? 0 : newline + 1;
      if ((line_begin > 0 || line_starting_) && line_begin < text.size() &&
          all_spaces(text.substr(line_begin)))
        text = text.substr(0, line_begin);
    }
    if (!text.empty()) push(TokenType::Data, start, std::string(text));
  }

  static std::string_view rstrip_spaces(std::string_view text) {
    return text.substr(0, text.size() - trailing_space_bytes(text));
  }
  static size_t trailing_space_bytes(std::string_view text) {
    size_t end = text.size();
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      size_t probe = start;
      if (!py::is_space(py::next_code_point(text, probe))) break;
      end = start;
    }
    return text.size() - end;
  }
  static bool all_spaces(std::string_view text) { return trailing_space_bytes(text) == text.size(); }

  // The end of a block-like tag ("%}" or "#}") at `at`, with its whitespace control: returns
  // the position after it (after the stripped whitespace or trimmed newline), or npos.
  size_t match_tag_end(size_t at, std::string_view close) const {
    if (src_.substr(at, 1) == "+" && starts_with(at + 1, close)) return at + 1 + close.size();
    if (src_.substr(at, 1) == "-" && starts_with(at + 1, close)) return skip_spaces(at + 1 + close.size());
    if (starts_with(at, close)) {
      size_t end = at + close.size();
      if (options_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
      return end;
    }
    return std::string_view::npos;
  }

  void finish_match(size_t end) {
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    pos_ = end;
  }

  void lex_root() {
    // Find the next tag opener.
    size_t tag = pos_;
    while (true) {
      tag = src_.find('{', tag);
      if (tag == std::string_view::npos || tag + 1 >= src_.size()) {
        push(TokenType::Data, pos_, std::string(src_.substr(pos_)));
        pos_ = src_.size();
        return;
      }
      const char kind = src_[tag + 1];
      if (kind == '%' || kind == '#' || kind == '{') break;
      ++tag;
    }
    const char kind = src_[tag + 1];
    char sign = 0;
    if (tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+')) sign = src_[tag + 2];
    const size_t after_open = tag + 2 + (sign ? 1 : 0);
    emit_text_before_tag(pos_, tag, sign, kind == '{');
    if (kind == '#') return lex_comment(tag, after_open);
    if (kind == '%' && lex_raw(tag, after_open)) return;
    lex_tag(tag, after_open, kind == '%');
  }

  void lex_comment(size_t tag, size_t at) {
    for (size_t i = at; i < src_.size(); ++i) {
      const size_t end = match_tag_end(i, "#}");
      if (end != std::string_view::npos) return finish_match(end);
    }
    fail(tag, "Missing end of comment tag");
  }

  // `{% raw %}...{% endraw %}`: returns false if the tag is not `raw`.
  bool lex_raw(size_t tag, size_t at) {
    size_t p = skip_spaces(at);
    if (!starts_with(p, "raw")) return false;
    p = skip_spaces(p + 3);
    size_t body;
    if (starts_with(p, "-%}")) body = skip_spaces(p + 3);
    else if (starts_with(p, "%}")) body = p + 2;
    else return false;
    line_starting_ = src_[body - 1] == '\n';
    for (size_t i = src_.find("{%", body); i != std::string_view::npos; i = src_.find("{%", i + 1)) {
      char sign = 0;
      size_t q = i + 2;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = skip_spaces(q);
      if (!starts_with(q, "endraw")) continue;
      const size_t end = match_tag_end(skip_spaces(q + 6), "%}");
      if (end == std::string_view::npos) continue;
      emit_text_before_tag(body, i, sign, false);
      finish_match(end);
      return true;
    }
    fail(tag, "Missing end of raw directive");
  }

  void lex_tag(size_t tag, size_t at, bool is_block) {
    push(is_block ? TokenType::BlockBegin : TokenType::VariableBegin, tag, is_block ? "{%" : "{{");
    std::string balance;  // closing brackets expected, innermost last
    pos_ = at;
    while (pos_ < src_.size()) {
      if (balance.empty()) {
        size_t end = std::string_view::npos;
        if (is_block) {
          end = match_tag_end(pos_, "%}");
        } else if (starts_with(pos_, "-}}")) {
          end = skip_spaces(pos_ + 3);
        } else if (starts_with(pos_, "}}")) {
          end = pos_ + 2;
        }
        if (end != std::string_view::npos) {
          push(is_block ? TokenType::BlockEnd : TokenType::VariableEnd, pos_, "");
          return finish_match(end);
        }
      }
      if (size_t n = space_at(pos_)) {
        pos_ = skip_spaces(pos_ + n);
        line_starting_ = src_[pos_ - 1] == '\n';
        continue;
      }
      line_starting_ = false;
      if (lex_number()) continue;
      const char c = src_[pos_];
      if (is_name_start(c)) {
        size_t end = pos_ + 1;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        push(TokenType::Name, pos_, std::string(src_.substr(pos_, end - pos_)));
        pos_ = end;
        continue;
      }
      if (c == '\'' || c == '"') {
        lex_string();
        continue;
      }
      lex_operator(balance);
    }
    // The template ended inside the tag; the parser reports what it was still expecting.
  }

  // float_re / integer_re of jinja2: digits may be grouped with single underscores.
  size_t digits_end(size_t at, bool (*ok)(char)) const {
    if (at >= src_.size() || !ok(src_[at])) return std::string_view::npos;
    size_t p = at + 1;
    while (p < src_.size()) {
      if (ok(src_[p])) ++p;
      else if (src_[p] == '_' && p + 1 < src_.size() && ok(src_[p + 1])) p += 2;
      else break;
    }
    return p;
  }

  bool lex_number() {
    if (!is_digit(src_[pos_])) return false;
    const size_t start = pos_;
    const size_t int_end = digits_end(start, is_digit);
    // Float: digits then a fraction and/or an exponent; never right after a '.'.
    if (start == 0 || src_[start - 1] != '.') {
      size_t p = int_end;
      bool has_fraction = false;
      if (p < src_.size() && src_[p] == '.') {
        const size_t frac_end = digits_end(p + 1, is_digit);
        if (frac_end != std::string_view::npos) {
          p = frac_end;
          has_fraction = true;
        }
      }
      size_t exp_end = std::string_view::npos;
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        exp_end = digits_end(q, is_digit);
      }
      if (exp_end != std::string_view::npos) p = exp_end;
      if (has_fraction || exp_end != std::string_view::npos) {
        std::string digits;
        for (char ch : src_.substr(start, p - start))
          if (ch != '_') digits += ch;
        push(TokenType::Float, start, digits);
        tokens_.back().float_value = std::strtod(digits.c_str(), nullptr);
        pos_ = p;
        return true;
      }
    }
    // Integer: 0b / 0o / 0x prefixes, a non-zero-led decimal, or zeros.
    int base = 10;
    size_t end = int_end;
    if (src_[start] == '0' && start + 1 < src_.size()) {
      const char prefix = static_cast<char>(src_[start + 1] | 32);
      auto prefixed_end = [&](bool (*ok)(char)) {
        size_t p = start + 2;
        bool any = false;
        while (p < src_.size()) {
          if (ok(src_[p])) ++p, any = true;
          else if (src_[p] == '_' && p + 1 < src_.size() && ok(src_[p + 1])) p += 2, any = true;
          else break;
        }
        return any ? p : std::string_view::npos;
      };
      size_t e = std::string_view::npos;
      if (prefix == 'b') e = prefixed_end([](char ch) { return ch == '0' || ch == '1'; }), base = 2;
      else if (prefix == 'o') e = prefixed_end([](char ch) { return ch >= '0' && ch <= '7'; }), base = 8;
      else if (prefix == 'x') e = prefixed_end([](char ch) { return is_digit(ch) || ((ch | 32) >= 'a' && (ch | 32) <= 'f'); }), base = 16;
      if (e != std::string_view::npos) {
        end = e;
      } else {
        base = 10;
        end = digits_end(start, [](char ch) { return ch == '0'; });  // "0", "00", "0_0"
      }
    }
    std::string digits;
    for (char ch : src_.substr(start + (base == 10 ? 0 : 2), end - start - (base == 10 ? 0 : 2)))
      if (ch != '_') digits += ch;
    errno = 0;
    const long long value = std::strtoll(digits.c_str(), nullptr, base);
    if (errno == ERANGE) fail(start, "integer literal is too large (the limit is 64 bits)");
    push(TokenType::Integer, start, std::string(src_.substr(start, end - start)));
    tokens_.back().int_value = value;
    pos_ = end;
    return true;
  }

  void lex_string() {
    const char quote = src_[pos_];
    const size_t start = pos_;
    size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) fail(start, fmt::format("unexpected char {} at {}", quote == '\'' ? "\"'\"" : "'\"'", start));
    push(TokenType::String, start, unescape(src_.substr(start + 1, p - start - 1), start));
    pos_ = p + 1;
  }

  // Python's "unicode-escape" decoding, which jinja2 applies to string literals.
  std::string unescape(std::string_view s, size_t at) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 >= s.size()) {
        out += s[i];
        continue;
      }
      const char e = s[++i];
      auto hex = [&](size_t digits) -> char32_t {
        if (i + digits >= s.size())
          fail(at, fmt::format("truncated \\{}{} escape", e, std::string(digits, 'X')));
        char32_t v = 0;
        for (size_t k = 1; k <= digits; ++k) {
          const char h = static_cast<char>(s[i + k] | 32);
          int d = is_digit(s[i + k]) ? s[i + k] - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : -1;
          if (d < 0) fail(at, fmt::format("truncated \\{}{} escape", e, std::string(digits, 'X')));
          v = v * 16 + static_cast<char32_t>(d);
        }
        i += digits;
        return v;
      };
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': py::append_utf8(out, hex(2)); break;
        case 'u':
        case 'U': {
          char32_t cp = hex(e == 'u' ? 4 : 8);
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < s.size() && s.substr(i + 1, 2) == "\\u") {
            i += 2;
            const char32_t low = hex(4);
            if (low < 0xDC00 || low > 0xDFFF) fail(at, "invalid surrogate pair in string literal");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail(at, "string literal escape is not a valid Unicode character");
          py::append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t v = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
              v = v * 8 + static_cast<char32_t>(s[++i] - '0');
            py::append_utf8(out, v);
          } else {
            out += '\\';  // unknown escapes stay as written
            out += e;
          }
      }
    }
    return out;
  }

  void lex_operator(std::string& balance) {
    static constexpr std::string_view kTwo[] = {"**", "//", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (starts_with(pos_, op)) {
        push(TokenType::Operator, pos_, std::string(op));
        pos_ += 2;
        return;
      }
    }
    const char c = src_[pos_];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      size_t next = pos_;
      std::string ch;
      py::append_utf8(ch, py::next_code_point(src_, next));
      fail(pos_, fmt::format("unexpected char {} at {}", py::repr(ch), pos_));
    }
    if (c == '{') balance += '}';
    if (c == '(') balance += ')';
    if (c == '[') balance += ']';
    if (c == '}' || c == ')' || c == ']') {
      if (balance.empty()) fail(pos_, fmt::format("unexpected '{}'", c));
      const char expected = balance.back();
      balance.pop_back();
      if (expected != c) fail(pos_, fmt::format("unexpected '{}', expected '{}'", c, expected));
    }
    push(TokenType::Operator, pos_, std::string(1, c));
    ++pos_;
  }

  std::string_view src_;
  LexerOptions options_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace hearth::tmpl
