// Splitting an answer into reasoning and content, and a conversation through a real template.
#include <gtest/gtest.h>

#include "engine/chat.h"
#include "template/chat_template.h"

using namespace hearth;

TEST(Reasoning, DetectedFromTheTemplate) {
  EXPECT_FALSE(ReasoningMarkers::detect("{{ messages[0].content }}").enabled());
  const auto m = ReasoningMarkers::detect("{% if '</think>' in content %}...{% endif %}");
  EXPECT_EQ(m.open, "<think>");
  EXPECT_EQ(m.close, "</think>");
}

TEST(Reasoning, SplitsOpenedAndClosedSection) {
  const ReasoningMarkers m{"<think>", "</think>"};
  auto msg = split_reasoning("<think>\nLet me see.\n</think>\n\nThe answer is 4.", m);
  EXPECT_EQ(msg.reasoning_content, "Let me see.");
  EXPECT_EQ(msg.content, "The answer is 4.");
  // The generation prompt opened the section: the answer starts inside it.
  msg = split_reasoning("First, 2+2.</think>4", m);
  EXPECT_EQ(msg.reasoning_content, "First, 2+2.");
  EXPECT_EQ(msg.content, "4");
  // Cut off while reasoning.
  msg = split_reasoning("<think>still going", m);
  EXPECT_EQ(msg.reasoning_content, "still going");
  EXPECT_EQ(msg.content, "");
  // No section at all.
  msg = split_reasoning("Just an answer.", m);
  EXPECT_EQ(msg.reasoning_content, "");
  EXPECT_EQ(msg.content, "Just an answer.");
}

TEST(Reasoning, TemplatesWithoutSectionKeepTextAsIs) {
  const auto msg = split_reasoning("<think>x</think>y", ReasoningMarkers{});
  EXPECT_EQ(msg.content, "<think>x</think>y");
  EXPECT_EQ(msg.to_json().dump(), R"({"role":"assistant","content":"<think>x</think>y"})");
}
