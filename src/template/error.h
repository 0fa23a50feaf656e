// Errors of the template engine. Every parse and render failure is a TemplateError that says
// where in the template it happened ("chat.jinja:12:5: unexpected '}'"); a template's own
// raise_exception(msg) is a RaisedError whose what() is exactly msg.
#pragma once
#include <string>

#include "core/error.h"

namespace hearth::tmpl {

// What went wrong, in the terms of Python's jinja2 (python_error_name gives its class name).
enum class ErrorKind {
  Syntax,     // the template does not parse (TemplateSyntaxError / TemplateAssertionError)
  Undefined,  // an undefined value was used in a way that needs a value (UndefinedError)
  Type,       // an operation got a value of the wrong type (TypeError)
  Value,      // right type, bad value: int overflow, division by zero, bad slice (ValueError ...)
  Security,   // the sandbox refused an operation, e.g. list.append (SecurityError)
  Limit,      // a configured limit (recursion, loop iterations, output size) was exceeded
  Raised,     // the template called raise_exception(msg) (jinja2.TemplateError)
  Runtime,    // anything else at render time, e.g. an unknown filter reached (TemplateRuntimeError)
};

const char* python_error_name(ErrorKind kind);

class TemplateError : public hearth::Error {
 public:
  TemplateError(ErrorKind kind, std::string message, std::string template_name, int line, int column);

  ErrorKind kind() const { return kind_; }
  // The message without the "name:line:column: " prefix.
  const std::string& message() const { return message_; }
  const std::string& template_name() const { return template_name_; }

  int line;    // 1-based; 0 when unknown
  int column;  // 1-based, counted in characters (code points)

 protected:
  TemplateError(ErrorKind kind, std::string what, std::string message, std::string template_name,
                int line, int column);

 private:
  ErrorKind kind_;
  std::string message_;
  std::string template_name_;
};

// raise_exception(msg) from inside a template: what() == msg, unchanged.
class RaisedError : public TemplateError {
 public:
  RaisedError(const std::string& message, std::string template_name, int line, int column);
};

}  // namespace hearth::tmpl
