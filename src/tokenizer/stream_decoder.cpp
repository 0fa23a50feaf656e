#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace hearth::tok {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  tokenizer_.check_id(id);
  tokenizer_.append_piece(id, first_, skip_special_, pending_);
  first_ = false;
  std::string out;
  const size_t used = utf8::append_valid(pending_, out, /*final=*/false);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  utf8::append_valid(pending_, out, /*final=*/true);
  pending_.clear();
  return out;
}

}  // namespace hearth::tok
