// The steps a Tokenizer chains, in the order Hugging Face's tokenizers library runs them:
//   added (special) tokens are split out of the text first (AddedTokens),
//   every remaining fragment goes through   Normalizer -> PreTokenizer -> Model   to become
//   ids, the PostProcessor adds BOS/EOS (or CLS/SEP) around the whole sequence,
//   and a Decoder turns the texts of ids back into bytes.
// Tokenizers built from a tokenizer.json (hf_json_loader.cpp) and from GGUF metadata
// (gguf_pipeline.cpp) are made of these same steps.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace hearth::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Appends the normalized form of one text fragment to `out`.
  virtual void normalize(std::string_view text, std::string& out) const = 0;
};

// A non-owning reference to a callable (like std::function_ref): lets a pre-tokenizer hand
// each piece to the next step without allocating.
template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): meant to bind lambdas implicitly
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Receives the pieces a pre-tokenizer cuts; the text is only valid during the call.
// `at_start`: the piece begins at the first byte of the whole input (Metaspace's
// prepend_scheme "first" looks at it).
using PieceSink = FunctionRef<void(std::string_view piece, bool at_start)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Cuts one piece into finer ones (and/or rewrites its text), handing each non-empty one
  // to `emit` in order. Pieces are independent: a Sequence runs its next step on each.
  virtual void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one pre-tokenized piece to `out`.
  virtual void encode(std::string_view piece, std::vector<int32_t>& out) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token texts in place (HF's decode_chain); the Tokenizer concatenates what
  // is left. Texts hold raw bytes: a byte-fallback or byte-level token may carry part of a
  // UTF-8 character that a later token completes, and only the Tokenizer turns what never
  // forms a character into U+FFFD. `text_start`: tokens[0] begins the text, so first-token
  // rules apply (Strip's leading characters, Metaspace's prefix); llama.cpp-style
  // vocabularies clear it when a leading BOS was skipped.
  virtual void decode_chain(std::vector<std::string>& tokens, bool text_start) const = 0;
};

// Ids placed around an encoded sequence when add_special is set.
struct PostProcessor {
  std::vector<int32_t> prefix;  // e.g. {bos} or {cls}
  std::vector<int32_t> suffix;  // e.g. {eos} or {sep}
};

}  // namespace hearth::tok
