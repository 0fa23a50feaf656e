// Parse and render errors: the kind, the message (jinja2's wording, checked against Python
// jinja2), and the position: "name:line:column: message", columns counted in characters.
// raise_exception(msg) gives a RaisedError whose what() is exactly msg.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "template/template.h"

using namespace hearth::tmpl;
using json = nlohmann::ordered_json;

namespace {

TemplateError parse_error(const std::string& source) {
  try {
    Template::parse(source, "template.jinja");
  } catch (const TemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "parsed without error: " << source;
  return TemplateError(ErrorKind::Runtime, "none", "", 0, 0);
}

TemplateError render_error(const std::string& source, const json& variables = json::object()) {
  try {
    const std::string out = Template::parse(source, "template.jinja").render(variables);
    ADD_FAILURE() << "rendered without error: " << out;
  } catch (const TemplateError& e) {
    return e;
  }
  return TemplateError(ErrorKind::Runtime, "none", "", 0, 0);
}

TEST(JinjaParseErrors, UnbalancedBraceHasLineAndColumn) {
  const TemplateError e = parse_error("line1\n\n{{ a } }}");
  EXPECT_EQ(e.kind(), ErrorKind::Syntax);
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.column, 6);
  EXPECT_EQ(e.message(), "unexpected '}'");
  EXPECT_STREQ(e.what(), "template.jinja:3:6: unexpected '}'");
}

TEST(JinjaParseErrors, UnclosedBlockSaysWhatIsMissing) {
  const TemplateError e = parse_error("{% for m in messages %}\n{{ m.content }}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.message(),
            "Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. "
            "The innermost block that needs to be closed is 'for'.");
}

TEST(JinjaParseErrors, NestingMistake) {
  const TemplateError e = parse_error("{% if x %}\n  {% for y in z %}\n  {% endif %}");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.column, 6);
  EXPECT_EQ(e.message(),
            "Encountered unknown tag 'endif'. You probably made a nesting mistake. Jinja is expecting this tag, "
            "but currently looking for 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.");
}

TEST(JinjaParseErrors, UnknownTagFilterAndTest) {
  EXPECT_EQ(parse_error("{% foo %}").message(), "Encountered unknown tag 'foo'.");
  const TemplateError filter = parse_error("ab\n  {{ x|from_json }}");
  EXPECT_EQ(filter.message(), "No filter named 'from_json'.");
  EXPECT_EQ(filter.line, 2);
  EXPECT_EQ(filter.column, 8);
  EXPECT_EQ(parse_error("{{ x is frobbed }}").message(), "No test named 'frobbed'.");
}

TEST(JinjaParseErrors, UnknownFilterInsideIfFailsOnlyWhenReached) {
  // jinja2 defers the error for filters inside if statements and conditional expressions.
  const Template t = Template::parse("{% if x %}{{ x|from_json }}{% endif %}", "template.jinja");
  EXPECT_EQ(t.render(json{{"x", false}}), "");
  try {
    t.render(json{{"x", "1"}});
    FAIL() << "expected an error";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_EQ(e.message(), "No filter named 'from_json' found.");
    EXPECT_EQ(e.column, 16);
  }
}

TEST(JinjaParseErrors, ExpressionErrors) {
  EXPECT_EQ(parse_error("{{ }}").message(), "Expected an expression, got 'end of print statement'");
  EXPECT_EQ(parse_error("{{ 1 + }}").message(), "unexpected 'end of print statement'");
  EXPECT_EQ(parse_error("{{ a b }}").message(), "expected token 'end of print statement', got 'b'");
  EXPECT_EQ(parse_error("{{ 'open }}").message(), "unexpected char \"'\" at 3");
  EXPECT_EQ(parse_error("{{ (1, 2] }}").message(), "unexpected ']', expected ')'");
  EXPECT_EQ(parse_error("{% set 1 = 2 %}").message(), "can't assign to 'const'");
  EXPECT_EQ(parse_error("{% macro m(a=1, b) %}{% endmacro %}").message(), "non-default argument follows default argument");
  EXPECT_EQ(parse_error("{% break %}").message(), "'break' outside of a loop");
  EXPECT_EQ(parse_error("{# never closed").message(), "Missing end of comment tag");
  EXPECT_EQ(parse_error("{% raw %}never closed").message(), "Missing end of raw directive");
}

TEST(JinjaParseErrors, ColumnsCountCharactersNotBytes) {
  const TemplateError e = parse_error("éé {{ ) }}");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.column, 7);
}

TEST(JinjaParseErrors, LoadingOtherTemplatesIsRefused) {
  const TemplateError e = parse_error("{% include 'x.jinja' %}");
  EXPECT_EQ(e.kind(), ErrorKind::Syntax);
  EXPECT_NE(e.message().find("cannot load other templates"), std::string::npos) << e.message();
}

TEST(JinjaParseErrors, InvalidUtf8IsRejected) {
  EXPECT_EQ(parse_error("ok \xff").kind(), ErrorKind::Syntax);
}

TEST(JinjaRenderErrors, UndefinedAttributeOfUndefined) {
  const TemplateError e = render_error("ok\n  {{ x.a.b }}", json{{"x", json::object()}});
  EXPECT_EQ(e.kind(), ErrorKind::Undefined);
  EXPECT_EQ(e.message(), "'dict object' has no attribute 'a'");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 6);
  EXPECT_STREQ(e.what(), "template.jinja:2:6: 'dict object' has no attribute 'a'");
}

TEST(JinjaRenderErrors, PythonTypeErrors) {
  EXPECT_EQ(render_error("{% for i in none %}{% endfor %}").message(), "'NoneType' object is not iterable");
  EXPECT_EQ(render_error("{{ 'a' + 1 }}").message(), "can only concatenate str (not \"int\") to str");
  EXPECT_EQ(render_error("{{ [1, 2]|select|length }}").message(), "object of type 'generator' has no len()");
  EXPECT_EQ(render_error("{{ [1, 2]|select|tojson }}").message(), "Object of type generator is not JSON serializable");
  EXPECT_EQ(render_error("{{ x + 1 }}").message(), "'x' is undefined");
  EXPECT_EQ(render_error("{{ 1 / 0 }}").kind(), ErrorKind::Value);
  const TemplateError e = render_error("éé {{ 1 + 'a' }}");
  EXPECT_EQ(e.kind(), ErrorKind::Type);
  EXPECT_EQ(e.message(), "unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(e.column, 7);
}

TEST(JinjaRenderErrors, ImmutableSandboxRefusesMutation) {
  const TemplateError e = render_error("{% set l = [] %}{{ l.append(1) }}");
  EXPECT_EQ(e.kind(), ErrorKind::Security);
  EXPECT_EQ(e.message(), "access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_EQ(render_error("{{ {}.update({}) }}").message(), "access to attribute 'update' of 'dict' object is unsafe.");
  Options mutable_lists;
  mutable_lists.allow_mutation = true;
  EXPECT_EQ(Template::parse("{% set l = [] %}{% set _ = l.append(1) %}{{ l }}", "t", mutable_lists).render({}), "[1]");
}

TEST(JinjaRenderErrors, RaiseExceptionKeepsTheExactMessage) {
  const std::string message = "Only user and assistant roles are supported!\nSee the docs: 'x' \"y\"";
  try {
    Template::parse("a\n  {{ 'x' ~ raise_exception(msg) }}", "chat.jinja").render(json{{"msg", message}});
    FAIL() << "expected RaisedError";
  } catch (const RaisedError& e) {
    EXPECT_EQ(std::string(e.what()), message);
    EXPECT_EQ(e.message(), message);
    EXPECT_EQ(e.kind(), ErrorKind::Raised);
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.column, 12);
    EXPECT_EQ(e.template_name(), "chat.jinja");
  }
  // A RaisedError is a TemplateError and a hearth::Error, for callers that catch broadly.
  EXPECT_THROW(Template::parse("{{ raise_exception('x') }}").render({}), TemplateError);
  EXPECT_THROW(Template::parse("{{ raise_exception('x') }}").render({}), hearth::Error);
}

TEST(JinjaRenderErrors, VariablesMustBeAnObject) {
  EXPECT_THROW(Template::parse("x").render(json::array()), TemplateError);
  EXPECT_EQ(Template::parse("x{{ y }}").render(nullptr), "x");
}

TEST(JinjaRenderErrors, InvalidUtf8InputIsReported) {
  json vars;
  vars["s"] = std::string("bad \xff byte");
  const TemplateError e = render_error("{{ s }}", vars);
  EXPECT_NE(e.message().find("'s'"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("UTF-8"), std::string::npos) << e.message();
}

}  // namespace
