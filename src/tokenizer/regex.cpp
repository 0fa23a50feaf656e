#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Per-thread match state: the match data (one pair of offsets is all we read), and a JIT
// stack larger than PCRE2's 32 KiB default so long runs of letters or spaces never exhaust it.
struct MatchState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  MatchState() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~MatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};

MatchState& match_state() {
  thread_local MatchState state;
  return state;
}

}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error, &offset, nullptr);
  if (code == nullptr) {
    fail("regular expression '{}' does not compile (at offset {}): {}", pattern_, offset,
         pcre2_message(error));
  }
  // JIT is an optimization; the interpreter gives the same matches if it is unavailable.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::find(std::string_view text, size_t from, size_t& start, size_t& end) const {
  MatchState& state = match_state();
  while (from <= text.size()) {
    const int rc = pcre2_match(static_cast<const pcre2_code*>(code_),
                               reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from, 0,
                               state.data, state.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
      fail("regular expression '{}' failed on a text of {} bytes: {}", pattern_, text.size(),
           pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
    start = ovector[0];
    end = ovector[1];
    if (end > start) return true;
    // An empty match makes no split; search again from the next character.
    if (start >= text.size()) return false;
    size_t n = 0;
    utf8::decode_at(text, start, n);
    from = start + n;
  }
  return false;
}

}  // namespace hearth::tok
