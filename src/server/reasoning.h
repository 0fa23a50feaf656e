// Splits generated text into reasoning_content and content for models whose chat template
// has a reasoning section ("<think> ... </think>" before the answer), as the text streams.
//
// Like llama.cpp, reasoning is recognised only at the start of the answer (after optional
// whitespace), or from the very beginning when the prompt already opened the section (e.g. a
// template whose generation prompt ends in "<think>\n"). Whitespace around the reasoning is
// trimmed, and so is the whitespace between the end marker and the answer. Text that could
// still turn out to be a marker is held back until it is decided, never emitted twice.
#pragma once
#include <string>
#include <string_view>

namespace hearth::server {

struct ReasoningMarkers {
  std::string start = "<think>";
  std::string end = "</think>";
};

class ReasoningSplitter {
 public:
  struct Piece {
    std::string reasoning;
    std::string content;
    bool empty() const { return reasoning.empty() && content.empty(); }
  };

  // starts_inside: the prompt ended inside the reasoning section.
  ReasoningSplitter(ReasoningMarkers markers, bool starts_inside);

  Piece push(std::string_view text);
  // At the end of generation: whatever was held back (an unclosed section stays reasoning).
  Piece flush();

 private:
  enum class State { Start, Reasoning, Content };
  void drain_reasoning(Piece& out);

  ReasoningMarkers markers_;
  State state_;
  bool reasoning_started_ = false;   // a non-space reasoning character was emitted
  bool trim_content_start_ = false;  // drop whitespace before the answer's first character
  std::string held_;                 // undecided text
  std::string held_space_;           // reasoning whitespace that may turn out to be trailing
};

}  // namespace hearth::server
