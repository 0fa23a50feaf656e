// The policy file: the issue's [[rule]] form, every section, and one clear error per mistake.
#include <gtest/gtest.h>

#include "core/error.h"
#include "guard/pipeline.h"
#include "guard/policy.h"

namespace hearth::guard {
namespace {

constexpr const char* kIssueRule = R"(
[[rule]]
name = "no-secrets-project"
category = "confidential"
phrases = ["project nightingale"]   # matched case- and width-insensitively
input = "block"
output = "block"
)";

std::string error_of(const std::string& toml) {
  try {
    parse_policy(toml, "p.toml");
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "";
}

TEST(GuardPolicy, TheIssueRuleBlocksBothWays) {
  const Policy p = parse_policy(kIssueRule, "p.toml");
  ASSERT_EQ(p.rules.size(), 1u);
  EXPECT_EQ(p.rules[0].name, "no-secrets-project");
  Guard g(p);
  const Decision in = g.check("What is PROJECT Ｎightingale?", Direction::Input);
  EXPECT_TRUE(in.blocked());
  EXPECT_EQ(in.message, p.block_message);
  EXPECT_TRUE(g.check("project nightingale", Direction::Output).blocked());
  EXPECT_EQ(g.check("a nightingale sings", Direction::Input).action, Action::Allow);
}

TEST(GuardPolicy, CategoryDefaultsAndRuleOverrides) {
  const Policy p = parse_policy(R"(
[guard]
window_bytes = 200
debug_echo = true
block_message = "no."

[categories.confidential]
input = "redact"
output = "block"
message = "That project is confidential."

[categories."pii.email"]
input = "flag"

[[rule]]
name = "codename"
category = "confidential"
words = ["nightingale"]

[[rule]]
name = "budget"
category = "confidential"
regex = ['\$\d+m\b']
input = "block"

[pii]
detectors = ["email", "credit_card"]
input = "redact"

[injection]
input = "flag"
)", "p.toml");
  EXPECT_EQ(p.window_bytes, 200u);
  EXPECT_TRUE(p.debug_echo);
  Guard g(p);
  const Decision d = g.check("nightingale costs $5m, mail a@b.io, card 4111 1111 1111 1111", Direction::Input);
  EXPECT_TRUE(d.blocked());  // the budget rule's own action beats the category's redact
  EXPECT_EQ(d.message, "That project is confidential.");
  const Decision r = g.check("nightingale, mail a@b.io, card 4111 1111 1111 1111", Direction::Input);
  EXPECT_EQ(r.action, Action::Redact);
  EXPECT_EQ(r.text, "[CONFIDENTIAL], mail a@b.io, card [CREDIT_CARD]");  // e-mail only flagged
  EXPECT_EQ(r.items.size(), 3u);
  EXPECT_TRUE(g.check("nightingale", Direction::Output).blocked());
  EXPECT_EQ(p.openai_name("S10"), "hate");
  EXPECT_EQ(p.openai_name("confidential"), "confidential");
}

TEST(GuardPolicy, MistakesAreOneClearLine) {
  EXPECT_NE(error_of("[[rule]]\nname='x'\ncategory='c'\nphrase=['a']\n").find("unknown key 'phrase'"),
            std::string::npos);
  EXPECT_NE(error_of("[[rule]]\nname='x'\nphrases=['a']\n").find("needs a category"), std::string::npos);
  EXPECT_NE(error_of("[[rule]]\nname='x'\ncategory='c'\n").find("no phrases"), std::string::npos);
  EXPECT_NE(error_of("[[rule]]\ncategory='c'\nphrases=['a']\ninput='deny'\n").find("unknown action 'deny'"),
            std::string::npos);
  EXPECT_NE(error_of("[[rule]]\ncategory='c'\nphrases=['...']\n").find("no letters or digits"),
            std::string::npos);
  EXPECT_NE(error_of("[rules]\n").find("unknown section 'rules'"), std::string::npos);
  EXPECT_NE(error_of("[pii]\ndetectors=['ssn']\n").find("unknown detector 'ssn'"), std::string::npos);
  EXPECT_NE(error_of("[guard]\nwindow_bytes = 1\n").find("between"), std::string::npos);
  EXPECT_NE(error_of("[[rule]\n").find("p.toml:1"), std::string::npos);
  EXPECT_THROW(Guard(parse_policy("[[rule]]\ncategory='c'\nregex=['(x']\n", "p.toml")), hearth::Error);
  EXPECT_THROW(load_policy_file("/nonexistent/policy.toml"), hearth::Error);
}

TEST(GuardPolicy, NonAsciiTextInStringsAndComments) {
  // toml++ is only given ASCII (see policy.cpp): these must still mean what they say.
  const Policy p = parse_policy(
      "# Ünïcode comment \xE2\x9C\x93\n[[rule]]\ncategory = \"c\"\nphrases = [\"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\", \"\"\"\nna\xC3\xAFve\"\"\"]\n"
      "message = \"tab\\there \\u00e9 \xCE\xB1\"\n",
      "p.toml");
  ASSERT_EQ(p.rules.size(), 1u);
  EXPECT_EQ(p.rules[0].phrases, (std::vector<std::string>{"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC", "na\xC3\xAFve"}));
  EXPECT_EQ(p.rules[0].message, "tab\there \xC3\xA9 \xCE\xB1");
  EXPECT_TRUE(Guard(p).check("CAFE \xE6\x97\xA5\xE6\x9C\xAC!", Direction::Input).items.size() == 1);
  EXPECT_NE(error_of("\xCF\x81 = 1\n").find("p.toml:1: a non-ASCII character outside a double-quoted string"),
            std::string::npos);
  EXPECT_NE(error_of("[[rule]]\ncategory = 'c'\nphrases = ['\xCF\x81']\n").find("p.toml:3: a non-ASCII"),
            std::string::npos);
  EXPECT_NE(error_of("a = \"\xFF\"\n").find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(error_of("a = \"x\x01\"\n").find("control character (0x01)"), std::string::npos);
}

}  // namespace
}  // namespace hearth::guard
