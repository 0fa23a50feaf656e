// Chat messages -> prompt tokens: the ChatML fallback and real Hugging Face templates, checked
// against renderings by Python jinja2 (chat_template_expected/) and the stories260K tokenizer.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "engine/model_loader.h"
#include "server/prompt_builder.h"
#include "tokenizer/tokenizer.h"

using hearth::server::ChatMlPromptBuilder;
using hearth::server::TemplatePromptBuilder;
using Json = nlohmann::ordered_json;

namespace {

const std::string kData = HEARTH_TESTDATA;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const hearth::tok::Tokenizer& tokenizer() {
  static const auto t = hearth::load_gguf_tokenizer(kData + "/models/stories260K.gguf");
  return *t;
}

TemplatePromptBuilder builder_for(const std::string& template_file) {
  return TemplatePromptBuilder(
      hearth::tmpl::ChatTemplate::from_source(read(kData + "/templates/" + template_file), "<s>", "</s>"),
      tokenizer());
}

}  // namespace

TEST(ServerPrompt, ChatMlFallback) {
  const Json messages = Json::parse(R"([{"role":"system","content":"Be kind."},{"role":"user","content":"Hi"},
                                        {"role":"assistant","content":null}])");
  EXPECT_EQ(ChatMlPromptBuilder::render(messages),
            "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n<|im_end|>\n<|im_start|>assistant\n");
  const ChatMlPromptBuilder b(tokenizer());
  const auto p = b.chat(messages, nullptr, nullptr);
  EXPECT_EQ(p.tokens, tokenizer().encode(ChatMlPromptBuilder::render(messages), true, true));
  EXPECT_FALSE(p.reasoning);
  EXPECT_THROW(b.chat(messages, Json::parse(R"([{"type":"function"}])"), nullptr), hearth::Error);
  EXPECT_EQ(b.completion("Once"), tokenizer().encode("Once", true, true));
}

TEST(ServerPrompt, ZephyrTemplateMatchesPythonJinja) {
  const Json expected = Json::parse(read(kData + "/chat_template_expected/HuggingFaceH4-zephyr-7b-beta.json"));
  const TemplatePromptBuilder b = builder_for("HuggingFaceH4-zephyr-7b-beta.jinja");
  int checked = 0;
  for (const Json& c : expected["cases"]) {
    const Json& in = c["inputs"];
    if (c["result"]["raises"] || !in["add_generation_prompt"] || in.contains("extra") ||
        in["bos_token"] != "<s>" || in["eos_token"] != "</s>")
      continue;
    const std::string want = c["result"]["output"];
    EXPECT_EQ(b.render(in["messages"], in["tools"], nullptr), want) << c["name"];
    const auto p = b.chat(in["messages"], in["tools"], nullptr);
    // The template writes BOS itself where it wants one: nothing is added; "</s>" in the text
    // is the end-of-sequence token.
    EXPECT_EQ(p.tokens, tokenizer().encode(want, /*add_special=*/false, /*parse_special=*/true)) << c["name"];
    EXPECT_FALSE(p.reasoning);
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(ServerPrompt, ReasoningTemplateOpensTheSection) {
  const TemplatePromptBuilder b = builder_for("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
  const auto p = b.chat(Json::parse(R"([{"role":"user","content":"2+2?"}])"), nullptr, nullptr);
  ASSERT_TRUE(p.reasoning);
  EXPECT_EQ(p.reasoning->start, "<think>");
  EXPECT_EQ(p.reasoning->end, "</think>");
  EXPECT_TRUE(p.reasoning_open);  // its generation prompt ends in "<think>\n"
}

TEST(ServerPrompt, TemplateThatRaisesIsAnError) {
  // Mistral's template insists on alternating user/assistant turns.
  const TemplatePromptBuilder b = builder_for("mistralai-Mistral-Nemo-Instruct-2407.jinja");
  try {
    b.chat(Json::parse(R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])"), nullptr, nullptr);
    FAIL() << "no error";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("alternate"), std::string::npos) << e.what();
  }
}
