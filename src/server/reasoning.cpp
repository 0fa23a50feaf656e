#include "server/reasoning.h"

#include <algorithm>

namespace hearth::server {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

void trim_front(std::string& s) { s.erase(0, std::min(s.find_first_not_of(kSpace), s.size())); }

size_t trimmed_size(std::string_view s) {
  const size_t last = s.find_last_not_of(kSpace);
  return last == std::string_view::npos ? 0 : last + 1;
}

// Length of the longest suffix of `text` that is a proper prefix of `marker`: those bytes
// may be the start of the marker, so they cannot be emitted yet.
size_t partial_marker_suffix(std::string_view text, std::string_view marker) {
  const size_t most = std::min(text.size(), marker.size() - 1);
  for (size_t k = most; k > 0; --k)
    if (text.substr(text.size() - k) == marker.substr(0, k)) return k;
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(ReasoningMarkers markers, bool starts_inside)
    : markers_(std::move(markers)), state_(starts_inside ? State::Reasoning : State::Start) {}

ReasoningSplitter::Piece ReasoningSplitter::push(std::string_view text) {
  held_ += text;
  Piece out;
  for (;;) {
    if (state_ == State::Start) {
      const size_t first = held_.find_first_not_of(kSpace);
      if (first == std::string::npos) return out;  // only whitespace so far: undecided
      const std::string_view rest = std::string_view(held_).substr(first);
      if (rest.substr(0, markers_.start.size()) == markers_.start) {
        held_.erase(0, first + markers_.start.size());
        state_ = State::Reasoning;
        continue;
      }
      if (std::string_view(markers_.start).substr(0, rest.size()) == rest) return out;
      state_ = State::Content;  // no reasoning section: everything, whitespace too, is content
      continue;
    }
    if (state_ == State::Reasoning) {
      const size_t end = held_.find(markers_.end);
      if (end == std::string::npos) {
        drain_reasoning(out);
        return out;
      }
      std::string reasoning = held_space_ + held_.substr(0, end);
      if (!reasoning_started_) trim_front(reasoning);
      reasoning.resize(trimmed_size(reasoning));
      out.reasoning += reasoning;
      held_space_.clear();
      held_.erase(0, end + markers_.end.size());
      state_ = State::Content;
      trim_content_start_ = true;
      continue;
    }
    // Content
    if (trim_content_start_) {
      trim_front(held_);
      if (held_.empty()) return out;
      trim_content_start_ = false;
    }
    out.content += held_;
    held_.clear();
    return out;
  }
}

// Emits the reasoning text that can no longer be part of the end marker, keeping back
// trailing whitespace (dropped if the end marker follows it).
void ReasoningSplitter::drain_reasoning(Piece& out) {
  if (!reasoning_started_) {
    trim_front(held_);
    if (held_.empty()) return;
    reasoning_started_ = true;
  }
  const size_t keep = partial_marker_suffix(held_, markers_.end);
  const std::string_view ready = std::string_view(held_).substr(0, held_.size() - keep);
  const size_t body = trimmed_size(ready);
  if (body > 0) {
    out.reasoning += held_space_;
    out.reasoning += ready.substr(0, body);
    held_space_.assign(ready.substr(body));
  } else {
    held_space_ += ready;
  }
  held_.erase(0, ready.size());
}

ReasoningSplitter::Piece ReasoningSplitter::flush() {
  Piece out;
  if (state_ == State::Reasoning) {
    std::string reasoning = held_space_ + held_;
    if (!reasoning_started_) trim_front(reasoning);
    reasoning.resize(trimmed_size(reasoning));
    out.reasoning = std::move(reasoning);
  } else {
    if (trim_content_start_) trim_front(held_);
    out.content = std::move(held_);
  }
  held_.clear();
  held_space_.clear();
  return out;
}

}  // namespace hearth::server
