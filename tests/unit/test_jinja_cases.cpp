// Every case of jinja_unit/cases.json (llama.cpp's Jinja feature tests, each re-rendered with
// Python jinja2): the template rendered with the case's variables must give exactly the
// expected output. The cases ran in jinja2's mutable SandboxedEnvironment; where HF's
// ImmutableSandboxedEnvironment differs (list.append/pop), the file records that result too,
// and both are checked.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "template/template.h"

using hearth::tmpl::ErrorKind;
using hearth::tmpl::Options;
using hearth::tmpl::Template;
using hearth::tmpl::TemplateError;
using json = nlohmann::ordered_json;

namespace {

struct Case {
  std::string label;  // gtest-safe name
  json data;
};

std::vector<Case> load_cases() {
  std::ifstream in(std::string(HEARTH_TESTDATA) + "/jinja_unit/cases.json");
  if (!in) return {};
  const json file = json::parse(in);
  std::vector<Case> cases;
  for (const json& c : file.at("cases")) {
    std::string label = std::to_string(cases.size()) + "_" + c.at("group").get<std::string>() + "_" + c.at("name").get<std::string>();
    for (char& ch : label)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    cases.push_back({label, c});
  }
  return cases;
}

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = load_cases();
  return cases;
}

std::string render(const json& c, bool allow_mutation) {
  Options options;
  options.allow_mutation = allow_mutation;
  const Template t = Template::parse(c.at("template").get<std::string>(), "case.jinja", options);
  return t.render(c.at("vars"));
}

class JinjaUnitCase : public ::testing::TestWithParam<Case> {};

TEST(JinjaUnitCases, FileHasAllCases) {
  // SOURCES.md: 201 cases are published (67 more are held out).
  EXPECT_EQ(all_cases().size(), 201u) << "cannot read " << HEARTH_TESTDATA << "/jinja_unit/cases.json";
}

TEST_P(JinjaUnitCase, MutableSandboxGivesExpectedOutput) {
  const json& c = GetParam().data;
  SCOPED_TRACE("template: " + c.at("template").get<std::string>());
  try {
    EXPECT_EQ(render(c, true), c.at("expected").get<std::string>());
  } catch (const TemplateError& e) {
    FAIL() << "raised: " << e.what();
  }
}

TEST_P(JinjaUnitCase, ImmutableSandboxMatchesHuggingFace) {
  const json& c = GetParam().data;
  SCOPED_TRACE("template: " + c.at("template").get<std::string>());
  if (!c.contains("immutable_sandbox_result")) {
    try {
      EXPECT_EQ(render(c, false), c.at("expected").get<std::string>());
    } catch (const TemplateError& e) {
      FAIL() << "raised: " << e.what();
    }
    return;
  }
  const json& expected = c.at("immutable_sandbox_result");
  ASSERT_TRUE(expected.at("raises").get<bool>());
  try {
    const std::string out = render(c, false);
    FAIL() << "expected " << expected.at("error_type") << ", got output: " << out;
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Security) << e.what();
    EXPECT_EQ(hearth::tmpl::python_error_name(e.kind()), expected.at("error_type").get<std::string>());
    EXPECT_EQ(e.message(), expected.at("error").get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaUnitCase, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.label; });

}  // namespace
