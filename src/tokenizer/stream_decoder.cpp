#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace hearth::tok {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  tokenizer_.check_id(id);
  window_.push_back(id);
  const std::string raw = tokenizer_.decode_raw(window_, skip_special_);
  // A decoder whose output for the context changed (only one that strips trailing
  // characters does) cannot take back what was returned; go on after as much as matches.
  size_t done = emitted_.size();
  if (raw.compare(0, done, emitted_) != 0) done = std::min(done, raw.size());

  std::string out;
  const size_t used = utf8::append_valid(std::string_view(raw).substr(done), out, /*final=*/false);
  if (used > 0) restart_window(raw, raw.size() - done - used);
  return out;  // empty: nothing new, or only the start of a character
}

std::string StreamDecoder::flush() {
  const std::string raw = tokenizer_.decode_raw(window_, skip_special_);
  const size_t done = std::min(emitted_.size(), raw.size());
  std::string out;
  utf8::append_valid(std::string_view(raw).substr(done), out, /*final=*/true);
  restart_window(raw, 0);
  return out;
}

void StreamDecoder::restart_window(const std::string& raw, size_t held) {
  std::vector<int32_t> next(window_.begin() + static_cast<std::ptrdiff_t>(context_), window_.end());
  const std::string next_raw = tokenizer_.decode_raw(next, skip_special_);
  // Decoded on their own, the new context ids must end with the same held-back bytes;
  // otherwise keep the longer window (still exact, just more to decode next time).
  if (next_raw.size() >= held &&
      next_raw.compare(next_raw.size() - held, held, raw, raw.size() - held, held) == 0) {
    window_ = std::move(next);
    emitted_ = next_raw.substr(0, next_raw.size() - held);
  } else {
    emitted_ = raw.substr(0, raw.size() - held);
  }
  context_ = window_.size();
}

}  // namespace hearth::tok
