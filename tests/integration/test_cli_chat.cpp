// `hearth chat` driven through a real terminal (tmux): two turns, /reset, Ctrl-C during an
// answer, /save; and `hearth run --chat`, `tokenize`, `detokenize`, `template` as a person
// would use them.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <fstream>
#include <thread>

#include "support/run_command.h"

using hearth::test::run_command;
using hearth::test::TempDir;

namespace {
const std::string kBin = HEARTH_BINARY;
const std::string kData = HEARTH_TESTDATA;
const std::string kModel = kData + "/models/stories260K.gguf";
const std::string kZephyr = kData + "/templates/HuggingFaceH4-zephyr-7b-beta.jinja";

class Tmux {
 public:
  explicit Tmux(const std::string& command)
      : name_("hearth-chat-" + std::to_string(::getpid()) + "-" + std::to_string(next_id_++)) {
    run_command("tmux kill-session -t " + name_);
    const auto r = run_command("tmux new-session -d -x 200 -y 50 -s " + name_ + " '" + command + "'");
    EXPECT_EQ(r.status, 0) << r.err;
  }
  ~Tmux() { run_command("tmux kill-session -t " + name_); }
  void keys(const std::string& k) { run_command("tmux send-keys -t " + name_ + " " + k); }
  std::string screen() { return run_command("tmux capture-pane -p -S -200 -t " + name_).out; }
  // Waits until `pred(screen)` holds (at most `seconds`).
  template <typename Pred>
  bool wait_for(Pred pred, double seconds = 20) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (pred(screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  static inline int next_id_ = 0;
  std::string name_;
};

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Lines that start with the chat prompt "> " (tmux drops the trailing space of an empty one).
size_t prompts(const std::string& screen) {
  size_t n = 0, start = 0;
  while (start < screen.size()) {
    size_t end = screen.find('\n', start);
    if (end == std::string::npos) end = screen.size();
    const std::string line = screen.substr(start, end - start);
    if (line == ">" || line.rfind("> ", 0) == 0) ++n;
    start = end + 1;
  }
  return n;
}

}  // namespace

TEST(CliChat, TwoTurnsResetCtrlCAndSaveInATerminal) {
  if (run_command("command -v tmux").status != 0) FAIL() << "tmux is needed (scripts/setup installs it)";
  TempDir dir;
  const std::string saved = dir / "conversation.json";
  Tmux t(kBin + " chat -m " + kModel + " --template " + kZephyr +
         " --temp 0 -n 24 -c 1024 --system \"You tell stories.\"");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return prompts(s) >= 1; }))
      << t.screen();
  // Turn 1 and turn 2: each answer streams back and a new prompt appears.
  t.keys("'Tell me about a cat' Enter");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return prompts(s) >= 2; })) << t.screen();
  t.keys("'And then?' Enter");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return prompts(s) >= 3; })) << t.screen();
  t.keys("'/save " + saved + "' Enter");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return s.find("(saved to") != std::string::npos; }))
      << t.screen();
  const auto conv = nlohmann::json::parse(hearth::test::slurp(saved));
  ASSERT_EQ(conv.size(), 5u);  // system, user, assistant, user, assistant
  EXPECT_EQ(conv[0]["role"], "system");
  EXPECT_EQ(conv[1]["content"], "Tell me about a cat");
  EXPECT_EQ(conv[2]["role"], "assistant");
  EXPECT_EQ(conv[3]["content"], "And then?");

  // /reset forgets the turns.
  t.keys("'/reset' Enter");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return s.find("(conversation reset)") != std::string::npos; }));
  t.keys("'/save " + saved + "' Enter");
  ASSERT_TRUE(t.wait_for([](const std::string& s) { return count(s, "(saved to") >= 2; }));
  EXPECT_EQ(nlohmann::json::parse(hearth::test::slurp(saved)).size(), 1u);  // the system prompt

  // Ctrl-C during a (slowed-down, long) answer stops it and keeps the program running.
  Tmux slow(kBin + " chat -m " + kModel + " --template " + kZephyr +
            " --temp 0 -n 500 -c 1024 --token-delay-ms 40");
  ASSERT_TRUE(slow.wait_for([](const std::string& s) { return prompts(s) >= 1; }));
  slow.keys("'Once upon a time' Enter");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  slow.keys("C-c");
  ASSERT_TRUE(slow.wait_for([](const std::string& s) { return s.find("(stopped)") != std::string::npos; }, 10))
      << slow.screen();
  ASSERT_TRUE(slow.wait_for([](const std::string& s) { return prompts(s) >= 2; }, 5)) << slow.screen();
  slow.keys("'/quit' Enter");
}

TEST(CliChat, RunChatGivesAStructuredMessage) {
  const auto r = run_command(kBin + " run -m " + kModel + " --chat -p 'Hello' --template " + kZephyr +
                             " --temp 0 -n 16 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["message"]["role"], "assistant");
  EXPECT_TRUE(j["message"]["content"].is_string());
  EXPECT_EQ(j["finish_reason"], "length");
}

TEST(CliChat, ModelWithoutTemplateIsAClearError) {
  const auto r = run_command(kBin + " run -m " + kModel + " --chat -p 'Hello'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("ships no chat template: pass --template FILE"), std::string::npos) << r.err;
}

TEST(CliText, TokenizeMistralCarriesEosAsOneId) {
  const auto r = run_command(kBin + " tokenize --tokenizer " + kData +
                             "/tokenizers/mistral-7b-v0.1 --json 'Hi</s>'");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].front(), 1);  // BOS added
  EXPECT_EQ(j["ids"].back(), 2);   // </s> is EOS, not characters
  const auto plain = run_command(kBin + " tokenize --tokenizer " + kData + "/tokenizers/mistral-7b-v0.1 --no-special 'Hi'");
  EXPECT_EQ(plain.out.find("1 "), std::string::npos) << plain.out;
}

TEST(CliText, TokenizeReadsStdinVerbatimAndDetokenizeRoundTrips) {
  TempDir dir;
  { std::ofstream(dir / "in.txt") << "line one\n  line two\n"; }
  const auto ids = run_command("sh -c '" + kBin + " tokenize -m " + kModel + " --no-special - < " +
                               dir / "in.txt" + "'");
  ASSERT_EQ(ids.status, 0) << ids.err;
  std::string list = ids.out;
  list.pop_back();  // newline
  const auto text = run_command(kBin + " detokenize -m " + kModel + " " + list);
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out, "line one\n  line two\n\n");
}

TEST(CliText, TemplateRendersExactlyAndRaisesWithStatus3) {
  TempDir dir;
  {
    std::ofstream(dir / "vars.json")
        << R"({"messages":[{"role":"user","content":"Hello, how are you?"}],"add_generation_prompt":true,"bos_token":"<s>","eos_token":"</s>"})";
    std::ofstream(dir / "raise.jinja") << "{{ raise_exception('no system role here') }}";
  }
  const auto r = run_command(kBin + " template --template " + kZephyr + " --vars " + dir / "vars.json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<|user|>\nHello, how are you?</s>\n<|assistant|>\n");
  const auto bad = run_command(kBin + " template --template " + dir / "raise.jinja" + " --vars " + dir / "vars.json");
  EXPECT_EQ(bad.status, 3);
  EXPECT_NE(bad.err.find("no system role here"), std::string::npos) << bad.err;
}
