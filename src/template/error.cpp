#include "template/error.h"

#include <fmt/format.h>

namespace hearth::tmpl {

const char* python_error_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Syntax: return "TemplateSyntaxError";
    case ErrorKind::Undefined: return "UndefinedError";
    case ErrorKind::Type: return "TypeError";
    case ErrorKind::Value: return "ValueError";
    case ErrorKind::Security: return "SecurityError";
    case ErrorKind::Limit: return "LimitError";
    case ErrorKind::Raised: return "TemplateError";
    case ErrorKind::Runtime: return "TemplateRuntimeError";
  }
  return "TemplateError";
}

namespace {

std::string located(const std::string& message, const std::string& name, int line, int column) {
  if (line <= 0) return fmt::format("{}: {}", name, message);
  return fmt::format("{}:{}:{}: {}", name, line, column, message);
}

}  // namespace

TemplateError::TemplateError(ErrorKind kind, std::string message, std::string template_name,
                             int line, int column)
    : hearth::Error(located(message, template_name, line, column)),
      line(line),
      column(column),
      kind_(kind),
      message_(std::move(message)),
      template_name_(std::move(template_name)) {}

TemplateError::TemplateError(ErrorKind kind, std::string what, std::string message,
                             std::string template_name, int line, int column)
    : hearth::Error(what),
      line(line),
      column(column),
      kind_(kind),
      message_(std::move(message)),
      template_name_(std::move(template_name)) {}

RaisedError::RaisedError(const std::string& message, std::string template_name, int line, int column)
    : TemplateError(ErrorKind::Raised, message, message, std::move(template_name), line, column) {}

}  // namespace hearth::tmpl
