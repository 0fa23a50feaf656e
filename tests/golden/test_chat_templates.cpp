// Real Hugging Face chat templates rendered with the inputs of chat_template_expected/*.json
// must give exactly the output Python's jinja2 gave under transformers (or raise the same
// error where the template raises). One test per template file; each failing case reports
// where its output first differs from the expected one.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "template/chat_template.h"
#include "template/template.h"

using namespace hearth::tmpl;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const std::string kTestdata = HEARTH_TESTDATA;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The expected files were rendered with strftime_now frozen at 2025-01-15T12:34:56.
std::tm fixed_time() {
  std::tm t{};
  t.tm_year = 2025 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 15;
  t.tm_hour = 12;
  t.tm_min = 34;
  t.tm_sec = 56;
  t.tm_wday = 3;  // a Wednesday
  t.tm_yday = 14;
  return t;
}

Options hf_options() {
  Options options;
  options.now = fixed_time;
  return options;
}

std::vector<std::string> expected_files() {
  std::vector<std::string> names;
  const fs::path dir = fs::path(kTestdata) / "chat_template_expected";
  if (!fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

json load_expected(const std::string& name) {
  return json::parse(read_file(fs::path(kTestdata) / "chat_template_expected" / (name + ".json")));
}

// "testdata/templates/x.jinja" in the expected file -> the file under HEARTH_TESTDATA.
fs::path template_path(const json& expected) {
  std::string rel = expected.at("template").get<std::string>();
  const std::string prefix = "testdata/";
  if (rel.rfind(prefix, 0) == 0) rel = rel.substr(prefix.size());
  return fs::path(kTestdata) / rel;
}

std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

// A readable account of where two strings part ways.
std::string first_difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  std::ostringstream s;
  s << "first difference at byte " << i << " (got " << got.size() << " bytes, expected " << want.size() << ")\n"
    << "      got: ..." << escaped(std::string_view(got).substr(from, 100)) << "\n"
    << " expected: ..." << escaped(std::string_view(want).substr(from, 100));
  return s.str();
}

// Renders one case; returns an empty string when it matches, else what went wrong.
std::string check_case(const Template& t, const json& c) {
  const json& result = c.at("result");
  const bool should_raise = result.at("raises").get<bool>();
  try {
    const std::string out = t.render(c.at("inputs"));
    if (should_raise)
      return "expected " + result.value("error_type", std::string("an error")) + ": " + result.value("error", std::string()) +
             "\n  but it rendered: " + escaped(out.substr(0, 200));
    const std::string want = result.at("output").get<std::string>();
    return out == want ? "" : first_difference(out, want);
  } catch (const TemplateError& e) {
    if (!should_raise) return std::string("raised: ") + e.what();
    const std::string want_type = result.value("error_type", std::string());
    const std::string want_message = result.value("error", std::string());
    const std::string got_message = e.kind() == ErrorKind::Raised ? std::string(e.what()) : e.message();
    if (!want_type.empty() && want_type != python_error_name(e.kind()))
      return "expected " + want_type + ", raised " + python_error_name(e.kind()) + ": " + e.what();
    if (!want_message.empty() && want_message != got_message)
      return "expected message \"" + want_message + "\", got \"" + got_message + "\"";
    return "";
  }
}

class ChatTemplateFile : public ::testing::TestWithParam<std::string> {};

TEST(ChatTemplateFiles, AllPublishedFilesArePresent) {
  // SOURCES.md lists 73 expected files (the rest are held out).
  EXPECT_EQ(expected_files().size(), 73u) << "files in " << kTestdata << "/chat_template_expected";
}

TEST_P(ChatTemplateFile, EveryCaseRendersLikePythonJinja2) {
  const json expected = load_expected(GetParam());
  const fs::path path = template_path(expected);
  const std::string source = read_file(path);
  ASSERT_FALSE(source.empty()) << "cannot read " << path;
  std::optional<Template> t;
  try {
    t = Template::parse(source, path.filename().string(), hf_options());
  } catch (const TemplateError& e) {
    FAIL() << "parse failed: " << e.what();
  }
  int passed = 0, total = 0;
  for (const json& c : expected.at("cases")) {
    ++total;
    const std::string problem = check_case(*t, c);
    if (problem.empty()) ++passed;
    else ADD_FAILURE() << "case " << c.at("name").get<std::string>() << ": " << problem;
  }
  EXPECT_EQ(passed, total) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateFile, ::testing::ValuesIn(expected_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// Every template collected in templates/ (including those whose expected renderings are held
// out) must at least parse: Python's jinja2 compiles all of them.
std::vector<std::string> template_files() {
  std::vector<std::string> paths;
  const fs::path dir = fs::path(kTestdata) / "templates";
  if (!fs::is_directory(dir)) return paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().extension() == ".jinja") paths.push_back(fs::relative(entry.path(), dir).string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

class TemplateFile : public ::testing::TestWithParam<std::string> {};

TEST_P(TemplateFile, Parses) {
  const fs::path path = fs::path(kTestdata) / "templates" / GetParam();
  const std::string source = read_file(path);
  ASSERT_FALSE(source.empty()) << "cannot read " << path;
  try {
    Template::parse(source, GetParam(), hf_options());
  } catch (const TemplateError& e) {
    FAIL() << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Collected, TemplateFile, ::testing::ValuesIn(template_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// The founding example's model: Zephyr (HuggingFaceH4/zephyr-7b-beta), through the chat
// layer as an application would call it.
TEST(ZephyrTemplate, ChatTemplateApplyMatchesTransformers) {
  const json expected = load_expected("HuggingFaceH4-zephyr-7b-beta");
  const std::string source = read_file(fs::path(kTestdata) / "templates" / "HuggingFaceH4-zephyr-7b-beta.jinja");
  const ChatTemplate chat = ChatTemplate::from_source(source, "<s>", "</s>", hf_options());
  ASSERT_GE(expected.at("cases").size(), 6u);
  for (const json& c : expected.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const json& inputs = c.at("inputs");
    ASSERT_FALSE(c.at("result").at("raises").get<bool>());
    const std::string out = chat.apply(inputs.at("messages"), inputs.at("add_generation_prompt").get<bool>(), inputs.at("tools"));
    EXPECT_EQ(out, c.at("result").at("output").get<std::string>());
  }
}

TEST(ZephyrTemplate, SystemUserAssistantLayout) {
  // The layout documented on the zephyr-7b-beta model card.
  const std::string source = read_file(fs::path(kTestdata) / "templates" / "HuggingFaceH4-zephyr-7b-beta.jinja");
  const ChatTemplate chat = ChatTemplate::from_source(source, "<s>", "</s>");
  const json messages = json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}])");
  EXPECT_EQ(chat.apply(messages, true), "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
  EXPECT_EQ(chat.apply(messages, false), "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n");
}

// tokenizer_config.json files: the chat template and special tokens come from there.
TEST(ChatTemplateConfig, QwenTokenizerConfigRendersLikeTheTemplateFile) {
  const json config = json::parse(read_file(fs::path(kTestdata) / "tokenizers" / "qwen3" / "tokenizer_config.json"));
  const ChatTemplate chat = ChatTemplate::from_tokenizer_config(config, "qwen3/tokenizer_config.json", "", hf_options());
  const json expected = load_expected("Qwen-Qwen3-0.6B");
  for (const json& c : expected.at("cases")) {
    if (c.at("name") != "user_only_gen" && c.at("name") != "multi_turn_gen") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const json& inputs = c.at("inputs");
    json extra = json::object();
    if (inputs.contains("enable_thinking")) extra["enable_thinking"] = inputs["enable_thinking"];
    EXPECT_EQ(chat.apply(inputs.at("messages"), inputs.at("add_generation_prompt").get<bool>(), inputs.at("tools"), extra),
              c.at("result").at("output").get<std::string>());
  }
}

TEST(ChatTemplateConfig, NamedTemplatesAndAddedTokens) {
  const json config = json::parse(R"({
    "bos_token": {"content": "<B>", "lstrip": false},
    "eos_token": "<E>",
    "chat_template": [
      {"name": "default", "template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}"},
      {"name": "tool_use", "template": "tools={{ tools|tojson }}"}
    ]})");
  const json messages = json::parse(R"([{"role":"user","content":"x"}])");
  // Like transformers: "tool_use" when tools are passed, "default" otherwise.
  const ChatTemplate chat = ChatTemplate::from_tokenizer_config(config, "cfg.json");
  EXPECT_EQ(chat.apply(messages, false), "<B>x<E>");
  EXPECT_EQ(chat.apply(messages, false, json::parse("[1, 2]")), "tools=[1, 2]");
  // A name picks one template for every call.
  const ChatTemplate by_name = ChatTemplate::from_tokenizer_config(config, "cfg.json", "default");
  EXPECT_EQ(by_name.apply(messages, false, json::parse("[1, 2]")), "<B>x<E>");
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(config, "cfg.json", "tool_use").apply(messages, false), "tools=null");
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(config, "cfg.json", "rag"), hearth::Error);
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(json::object(), "cfg.json"), hearth::Error);
  const json no_default = json::parse(R"({"chat_template": [{"name": "rag", "template": "r"}]})");
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(no_default, "cfg.json"), hearth::Error);
}

TEST(ChatTemplateConfig, MissingSpecialTokensStayUndefined) {
  const ChatTemplate chat = ChatTemplate::from_source("{{ bos_token is defined }}/{{ eos_token is defined }}", "", "</s>");
  EXPECT_EQ(chat.apply(json::array(), false), "False/True");
}

// A server renders prompts for several requests at once with one parsed template.
TEST(ChatTemplateConcurrency, ParallelRendersOfOneTemplateAgree) {
  const json expected = load_expected("meta-llama-Llama-3.1-8B-Instruct");
  const Template t = Template::parse(read_file(template_path(expected)), "llama31", hf_options());
  std::vector<std::string> results(4 * expected.at("cases").size());
  std::vector<std::thread> threads;
  for (size_t worker = 0; worker < 4; ++worker) {
    threads.emplace_back([&, worker] {
      for (int round = 0; round < 50; ++round)
        for (size_t i = 0; i < expected.at("cases").size(); ++i) {
          const json& c = expected.at("cases")[i];
          std::string out;
          try {
            out = t.render(c.at("inputs"));
          } catch (const TemplateError& e) {
            out = std::string("error: ") + e.what();
          }
          results[worker * expected.at("cases").size() + i] = out;
        }
    });
  }
  for (std::thread& th : threads) th.join();
  for (size_t worker = 0; worker < 4; ++worker)
    for (size_t i = 0; i < expected.at("cases").size(); ++i) {
      const json& result = expected.at("cases")[i].at("result");
      if (!result.at("raises").get<bool>())
        EXPECT_EQ(results[worker * expected.at("cases").size() + i], result.at("output").get<std::string>());
    }
}

// Rendering a prompt happens once per request; it should cost microseconds, not milliseconds.
TEST(ChatTemplatePerformance, TypicalRenderTakesWellUnderAMillisecond) {
  const json expected = load_expected("Qwen-Qwen3-0.6B");
  const Template t = Template::parse(read_file(fs::path(kTestdata) / "templates" / "Qwen-Qwen3-0.6B.jinja"), "qwen3");
  const json* inputs = nullptr;
  for (const json& c : expected.at("cases"))
    if (c.at("name") == "tool_call_roundtrip_gen") inputs = &c.at("inputs");
  ASSERT_NE(inputs, nullptr);
  const int renders = 200;
  size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < renders; ++i) bytes += t.render(*inputs).size();
  const double micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(bytes, 0u);
  EXPECT_LT(micros / renders, 1000.0) << "average render time in microseconds";
}

}  // namespace
