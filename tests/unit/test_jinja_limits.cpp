// The sandbox's limits: templates come from model repositories, so a render must stay bounded
// in recursion, loop iterations, output and work whatever the template does, and fail with a
// clear TemplateError (kind Limit) instead of hanging, exhausting memory or crashing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "template/template.h"

using namespace hearth::tmpl;
using json = nlohmann::ordered_json;

namespace {

std::string render(const std::string& source, Options options = {}, const json& variables = json::object()) {
  return Template::parse(source, "limits.jinja", std::move(options)).render(variables);
}

// Renders and expects a Limit error whose message mentions `mentions`.
void expect_limit(const std::string& source, const std::string& mentions, Options options = {}) {
  try {
    const std::string out = render(source, std::move(options));
    ADD_FAILURE() << "rendered " << out.size() << " bytes without hitting a limit: " << source;
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Limit) << e.what();
    EXPECT_NE(e.message().find(mentions), std::string::npos) << e.what();
  }
}

const char* kCountdown = "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{% endif %}.{% endmacro %}";

TEST(JinjaLimits, MacroRecursionIsBounded) {
  Options options;
  options.max_recursion = 5;
  EXPECT_EQ(render(std::string(kCountdown) + "{{ m(4) }}", options), ".....");  // 5 nested calls
  expect_limit(std::string(kCountdown) + "{{ m(5) }}", "max_recursion", options);
  expect_limit("{% macro forever() %}{{ forever() }}{% endmacro %}{{ forever() }}", "nested macro calls");
}

TEST(JinjaLimits, RecursiveLoopsAreBounded) {
  Options options;
  options.allow_mutation = true;  // a list that contains itself
  expect_limit("{% set l = [1] %}{% set _ = l.append(l) %}{% for x in l recursive %}{{ loop(l) }}{% endfor %}",
               "max_recursion", options);
}

TEST(JinjaLimits, LoopIterationsAreCountedAcrossLoops) {
  Options options;
  options.max_loop_iterations = 10;
  EXPECT_EQ(render("{% for i in range(2) %}{% for j in range(4) %}x{% endfor %}{% endfor %}", options).size(), 8u);
  expect_limit("{% for i in range(11) %}{% endfor %}", "max_loop_iterations", options);
  expect_limit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop iterations");
}

TEST(JinjaLimits, OutputSizeIsBounded) {
  Options options;
  options.max_output_bytes = 1000;
  EXPECT_EQ(render("{% for i in range(100) %}0123456789{% endfor %}", options).size(), 1000u);
  expect_limit("{% for i in range(101) %}0123456789{% endfor %}", "max_output_bytes", options);
}

TEST(JinjaLimits, StringsCannotGrowWithoutBound) {
  expect_limit("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
               "max_output_bytes");
  expect_limit("{{ 'x' * 1000000000000 }}", "max_output_bytes");
  expect_limit("{{ 'x'|indent(1000000000000) }}", "max_output_bytes");
  expect_limit("{{ ('y' * 100000)|replace('y', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') * 10 }}", "max_output_bytes");
}

TEST(JinjaLimits, SharedStructuresCannotMultiplyWork) {
  // 8000 references to one 8000-element list: printing or serialising it would be 64M items.
  expect_limit("{{ [[0] * 8000] * 8000 }}", "limit");
  expect_limit("{{ ([[0] * 8000] * 8000)|tojson }}", "limit");
}

TEST(JinjaLimits, RangeIsCappedLikeJinja) {
  EXPECT_EQ(render("{{ range(100000)|length }}"), "100000");
  expect_limit("{{ range(100001)|length }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
}

TEST(JinjaLimits, DeepNestingInTheSourceIsASyntaxError) {
  const std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  try {
    Template::parse(deep);
    FAIL() << "expected a syntax error";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Syntax);
    EXPECT_NE(e.message().find("nested too deeply"), std::string::npos) << e.what();
  }
  std::string blocks;
  for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
  EXPECT_THROW(Template::parse(blocks), TemplateError);
}

TEST(JinjaLimits, DeeplyNestedValuesNeitherCrashNorPrint) {
  // Builds a list nested 100000 levels deep, one level per iteration. Destroying it must not
  // recurse 100000 deep; printing it is refused.
  const std::string build =
      "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}";
  EXPECT_EQ(render(build + "{{ ns.x|length }}"), "1");
  expect_limit(build + "{{ ns.x }}", "", {});
}

TEST(JinjaLimits, ReferenceCyclesRenderAndAreReleased) {
  // A namespace holding itself (possible even in the immutable sandbox) and a list holding
  // itself: rendering works, printing the cycle is refused, nothing crashes.
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me.me is defined }}"), "True");
  Options options;
  options.allow_mutation = true;
  try {
    render("{% set l = [] %}{% set _ = l.append(l) %}{{ l }}", options);
    FAIL() << "printing a list that contains itself should fail";
  } catch (const TemplateError& e) {
    EXPECT_NE(e.message().find("containing itself"), std::string::npos) << e.what();
  }
}

TEST(JinjaLimits, StrftimeNowUsesTheInjectedClock) {
  Options options;
  options.now = [] {
    std::tm t{};
    t.tm_year = 2025 - 1900;
    t.tm_mon = 0;
    t.tm_mday = 15;
    t.tm_hour = 12;
    t.tm_min = 34;
    t.tm_sec = 56;
    t.tm_wday = 3;
    return t;
  };
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%d %B %Y') }}|{{ strftime_now('%A') }}", options),
            "2025-01-15 12:34:56|15 January 2025|Wednesday");
  EXPECT_EQ(render("[{{ strftime_now('') }}]", options), "[]");
}

}  // namespace
