#include "template/template.h"

#include <fmt/format.h>

#include "template/evaluator.h"
#include "template/lexer.h"
#include "template/parser.h"
#include "template/pystr.h"

namespace hearth::tmpl {

Template::Template(std::shared_ptr<const CompiledTemplate> compiled) : compiled_(std::move(compiled)) {}

Template Template::parse(std::string_view source, std::string name, Options options) {
  auto compiled = std::make_shared<CompiledTemplate>();
  compiled->name = std::move(name);
  compiled->options = std::move(options);
  if (!py::is_valid_utf8(source))
    throw TemplateError(ErrorKind::Syntax, "the template is not valid UTF-8 text", compiled->name, 0, 0);
  compiled->source = normalize_source(source);
  auto syntax_error = [&](const std::string& message, uint32_t offset) {
    const SourceLocation loc = locate(compiled->source, offset);
    return TemplateError(ErrorKind::Syntax, message, compiled->name, loc.line, loc.column);
  };
  try {
    const std::vector<Token> tokens =
        tokenize(compiled->source, LexerOptions{compiled->options.trim_blocks, compiled->options.lstrip_blocks});
    compiled->body = hearth::tmpl::parse(tokens, ParseLimits{});
  } catch (const LexError& e) {
    throw syntax_error(e.message, e.offset);
  } catch (const ParseError& e) {
    throw syntax_error(e.message, e.offset);
  }
  return Template(std::move(compiled));
}

std::string Template::render(const nlohmann::ordered_json& variables) const {
  Interpreter interpreter(*compiled_);
  try {
    return interpreter.render(variables);
  } catch (const EvalError& e) {
    // Only errors outside any statement reach here (none are expected); report them plainly.
    if (e.kind == ErrorKind::Raised) throw RaisedError(e.message, compiled_->name, 0, 0);
    throw TemplateError(e.kind, e.message, compiled_->name, 0, 0);
  }
}

const std::string& Template::name() const { return compiled_->name; }
const Options& Template::options() const { return compiled_->options; }

}  // namespace hearth::tmpl
