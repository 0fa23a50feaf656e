#include "engine/request.h"

#include <cmath>

#include "engine/logprobs.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace hearth::engine {

namespace {

constexpr int32_t kMaxTopLogprobs = 20;  // OpenAI's limit

[[noreturn]] void invalid(const std::string& message) {
  throw RequestError(message, "invalid_request_error");
}

// Everything that can be wrong with params, checked before any state is built.
RequestParams validated(RequestParams p, const tok::Tokenizer& tokenizer, int32_t n_vocab,
                        int64_t n_ctx) {
  const int64_t n_prompt = static_cast<int64_t>(p.prompt.size());
  if (n_prompt == 0) invalid("the prompt is empty: send at least one token of text");
  if (n_prompt >= n_ctx)
    throw RequestError(fmt::format("the prompt has {} tokens but a sequence holds at most {} "
                                   "(prompt and answer together); shorten the prompt",
                                   n_prompt, n_ctx),
                       "context_length_exceeded");
  const int32_t vocab = std::min(n_vocab, tokenizer.n_vocab());
  for (int32_t id : p.prompt)
    if (id < 0 || id >= vocab)
      invalid(fmt::format("prompt token id {} is outside the vocabulary (0..{})", id, vocab - 1));
  if (p.max_tokens < -1 || p.max_tokens == 0)
    invalid(fmt::format("max_tokens must be positive (or -1 for no limit), got {}", p.max_tokens));
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= n_vocab)
      invalid(fmt::format("logit_bias names token id {}, outside the vocabulary (0..{})", id,
                          n_vocab - 1));
    if (!std::isfinite(bias))
      invalid(fmt::format("logit_bias for token {} must be a finite number", id));
  }
  if (p.top_logprobs < 0 || p.top_logprobs > kMaxTopLogprobs)
    invalid(fmt::format("top_logprobs must be between 0 and {}, got {}", kMaxTopLogprobs,
                        p.top_logprobs));
  for (const std::string& s : p.stop)
    if (!tok::utf8::is_valid(s)) invalid("a stop string is not valid UTF-8 text");
  return p;
}

sampling::Sampler make_sampler(const RequestParams& p, int32_t n_vocab) {
  try {
    sampling::Sampler s(p.sampling, n_vocab);
    if (!p.logit_bias.empty()) s.add_stage_front(std::make_unique<LogitBiasStage>(p.logit_bias));
    return s;
  } catch (const RequestError&) {
    throw;
  } catch (const Error& e) {
    invalid(e.what());
  }
}

}  // namespace

TokenTexts::TokenTexts(const tok::Tokenizer& tokenizer)
    : tokenizer_(tokenizer), texts_(static_cast<size_t>(tokenizer.n_vocab())) {}

const std::string& TokenTexts::get(int32_t id) {
  static const std::string kNone;
  if (id < 0 || id >= static_cast<int32_t>(texts_.size())) return kNone;
  auto& slot = texts_[static_cast<size_t>(id)];
  if (!slot) {
    // The token's text inside a text, so SentencePiece keeps its leading space: what the
    // second copy adds to the decoding of "id id" (the first copy's space is stripped as the
    // start of a text; byte-level tokenizers strip nothing, and the result is the same).
    const std::vector<int32_t> once{id}, twice{id, id};
    const std::string one = tokenizer_.decode(once, /*skip_special=*/false);
    const std::string two = tokenizer_.decode(twice, /*skip_special=*/false);
    slot = two.starts_with(one) ? two.substr(one.size()) : tokenizer_.token_piece(id);
  }
  return *slot;
}

Request::Request(uint64_t id, RequestParams params, const tok::Tokenizer& tokenizer,
                 int32_t n_vocab, int64_t n_ctx, std::shared_ptr<RequestHandle> handle)
    : id_(id),
      params_(validated(std::move(params), tokenizer, n_vocab, n_ctx)),
      tokenizer_(tokenizer),
      n_vocab_(n_vocab),
      n_ctx_(n_ctx),
      handle_(std::move(handle)),
      arrival_(Clock::now()),
      tokens_(params_.prompt),
      n_prompt_(static_cast<int64_t>(params_.prompt.size())),
      sampler_(make_sampler(params_, n_vocab)),
      decoder_(tokenizer),
      stop_(params_.stop) {
  params_.prompt = {};  // tokens_ holds it
  // The continuation must decode as part of the whole text (see StreamDecoder).
  for (int32_t t : tokens_) decoder_.push(t);
  pending_.kind = Event::Kind::Delta;
}

std::span<const kv::BlockHash> Request::block_hashes(int64_t block_size) {
  const size_t n_full = tokens_.size() / static_cast<size_t>(block_size);
  while (hashes_.size() < n_full) {
    const kv::BlockHash parent = hashes_.empty() ? kv::kRootBlockHash : hashes_.back();
    const size_t b = hashes_.size();
    hashes_.push_back(kv::hash_block(
        parent, std::span<const int32_t>(tokens_).subspan(b * block_size, block_size)));
  }
  return hashes_;
}

bool Request::on_logits(const float* logits, TokenTexts& texts, std::vector<float>& scratch) {
  const int32_t id = sampler_.sample(logits, tokens_);
  if (!params_.ignore_eos && tokenizer_.is_end_of_generation(id)) {
    emit_rest();
    finish("stop");
    return true;
  }
  if (params_.logprobs || params_.top_logprobs > 0) {
    const TokenScores s =
        score_token(logits, n_vocab_, params_.logit_bias, id, params_.top_logprobs, scratch);
    pending_.logprobs.push_back({id, texts.get(id), s.chosen});
    if (params_.top_logprobs > 0) {
      auto& alts = pending_.top_logprobs.emplace_back();
      for (const auto& [alt, lp] : s.top) alts.push_back({alt, texts.get(alt), lp});
    }
  }
  tokens_.push_back(id);
  pending_.token_ids.push_back(id);
  pending_.text += stop_.push(decoder_.push(id));
  if (stop_.matched()) {
    emit_pending();
    finish("stop");
    return true;
  }
  const bool max_tokens_reached = params_.max_tokens >= 0 && n_generated() >= params_.max_tokens;
  if (max_tokens_reached || n_known() >= n_ctx_) {  // no room for another position
    emit_rest();
    finish(stop_.matched() ? "stop" : "length");
    return true;
  }
  if (!pending_.text.empty()) emit_pending();
  return false;
}

void Request::emit_rest() {
  pending_.text += stop_.push(decoder_.flush());
  if (!stop_.matched()) pending_.text += stop_.flush();
  emit_pending();
}

void Request::emit_pending() {
  if (pending_.text.empty() && pending_.token_ids.empty()) return;
  handle_->deliver(std::move(pending_));
  pending_ = Event{};
  pending_.kind = Event::Kind::Delta;
}

void Request::finish(const std::string& reason) {
  if (finished()) return;
  state = RequestState::Finished;
  end_reason_ = reason;
  Event e;
  e.kind = Event::Kind::Finished;
  e.finish_reason = reason;
  e.usage.prompt_tokens = n_prompt_;
  e.usage.completion_tokens = n_generated();
  e.usage.cached_prompt_tokens = cached_prompt_tokens;
  if (first_token_time)
    e.time_to_first_token_s = std::chrono::duration<double>(*first_token_time - arrival_).count();
  end_ = std::move(e);
}

void Request::fail(const std::string& message, const std::string& code) {
  if (finished()) return;
  state = RequestState::Finished;
  end_reason_ = "error";
  Event e;
  e.kind = Event::Kind::Error;
  e.error = message;
  e.error_code = code;
  end_ = std::move(e);
}

void Request::deliver_end() {
  if (!end_) return;
  handle_->deliver(std::move(*end_));
  end_.reset();
}

}  // namespace hearth::engine
