#include "tokenizer/gguf_pipeline.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/spm.h"
#include "tokenizer/wordpiece.h"

namespace hearth::tok {

namespace {

// ---- llama.cpp's pre-tokenizers for byte-level BPE (llm_tokenizer_bpe), by tokenizer.ggml.pre.
// Each is a list of regexes applied one after the other, every one splitting the pieces the
// previous left (matches and the text between them both stay), followed by the byte-level
// mapping. Where llama.cpp rewrote a tokenizer.json regex for its own engine, the original
// is used: PCRE2 runs it as Oniguruma does.

// GPT-2's regex without the trailing "|\s+": text it leaves unmatched stays a piece anyway.
constexpr const char* kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kCjk = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
constexpr const char* kDeepseekV3Words =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kBloom = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+";

struct PreType {
  std::vector<std::string_view> names;
  std::vector<const char*> regexes;
  bool ignore_merges = false;
  bool adds_bos = false;
};

const std::vector<PreType>& pre_types() {
  static const std::vector<PreType> types = {
      {{"default", ""}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {kLlama3},
       true,
       true},
      {{"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {kLlama3}},
      {{"deepseek-llm"},
       {"[\\r\\n]",
        "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af"
        "\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5"
        "\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba"
        "\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45"
        "\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe"
        "\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
        "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134"
        "\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
        "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf"
        "\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
        "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df"
        "\U0001e900-\U0001e943]+",
        "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", "\\s+$", kCjk,
        "\\p{N}+"}},
      {{"deepseek-coder"}, {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kCjk, "\\p{N}"}},
      {{"deepseek-v3", "hunyuan-dense"},
       {"\\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+", kDeepseekV3Words}},
      {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}},
      {{"gpt-2", "mpt", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
        "jina-v2-de", "jina-v2-code", "roberta-bpe", "a.x-4.0", "mellum", "olmo", "jais",
        "trillion", "granite-docling", "exaone4"},
       {kGpt2}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
       {"\\p{N}", kGpt2}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "stablelm2", "hunyuan", "megrez", "grok-2"}, {kQwen2}},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {kBloom}},
      {{"viking"}, {kBloom, "\\p{N}"}},
      {{"tekken"}, {kTekken}, true, true},
      {{"chameleon"},
       {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
        "[\\p{P}!-/:-@\\[-`{-~]", kGpt2},
       false,
       true},
      {{"gpt-4o", "llama4", "minimax-m2"}, {kGpt4o}},
      {{"seed-coder"},
       {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|"
        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
      {{"bailingmoe", "bailingmoe2", "llada-moe"},
       {"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|"
        "\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
  };
  return types;
}

const PreType& find_pre_type(std::string_view pre) {
  std::string known;
  for (const PreType& t : pre_types()) {
    for (std::string_view name : t.names) {
      if (name == pre) return t;
      if (!name.empty()) known += known.empty() ? std::string(name) : ", " + std::string(name);
    }
  }
  fail("GGUF tokenizer.ggml.pre '{}' is not supported (known: {})", pre, known);
}

// ---- validation ----

void check_special_id(const char* what, int32_t id, size_t n_tokens) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n_tokens)) {
    fail("vocabulary {} token id {} is outside the vocabulary of {} tokens", what, id, n_tokens);
  }
}

// Checks sizes and ids, fills in defaults, and settles token types.
void validate(Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) fail("vocabulary has no tokens");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("vocabulary has {} tokens, more than token ids can address", n);
  }
  if (!v.scores.empty() && v.scores.size() != n) {
    fail("vocabulary has {} tokens but {} scores; the model file is inconsistent", n,
         v.scores.size());
  }
  if (!v.types.empty() && v.types.size() != n) {
    fail("vocabulary has {} tokens but {} token types; the model file is inconsistent", n,
         v.types.size());
  }
  check_special_id("bos", v.bos, n);
  check_special_id("eos", v.eos, n);
  check_special_id("unk", v.unk, n);
  check_special_id("pad", v.pad, n);
  if (v.add_bos && v.bos < 0) fail("vocabulary asks for a BOS token (add_bos) but has no bos token id");
  if (v.add_eos && v.eos < 0) fail("vocabulary asks for an EOS token (add_eos) but has no eos token id");

  v.scores.resize(n, 0.0f);
  for (float& s : v.scores) {
    if (std::isnan(s)) s = -std::numeric_limits<float>::infinity();  // keeps score order total
  }
  v.types.resize(n, TokenType::Normal);
  for (size_t i = 0; i < n; ++i) {
    TokenType& t = v.types[i];
    const auto raw = static_cast<int32_t>(t);
    if (raw < 0 || raw > static_cast<int32_t>(TokenType::Byte)) t = TokenType::Undefined;
    if (t == TokenType::Byte && parse_byte_token(v.tokens[i]) < 0) {
      fail("token {} is marked as a byte token but its text '{}' is not of the form <0xXX>", i,
           v.tokens[i]);
    }
    // Before the model is built, so merges never produce an end-of-turn marker.
    if (t == TokenType::UserDefined && is_end_of_turn_text(v.tokens[i])) t = TokenType::Control;
  }
}

// Control, unknown and user-defined tokens are split out of the text before the model runs.
std::vector<AddedToken> added_tokens_of(const Vocab& v) {
  std::vector<AddedToken> added;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const TokenType t = v.types[i];
    if (t != TokenType::Control && t != TokenType::Unknown && t != TokenType::UserDefined) continue;
    AddedToken a;
    a.id = static_cast<int32_t>(i);
    a.content = v.tokens[i];
    a.special = t != TokenType::UserDefined;
    added.push_back(std::move(a));
  }
  return added;
}

std::vector<std::pair<std::string, int32_t>> vocab_pairs(const Vocab& v) {
  std::vector<std::pair<std::string, int32_t>> pairs;
  pairs.reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) pairs.emplace_back(v.tokens[i], static_cast<int32_t>(i));
  return pairs;
}

PostProcessor bos_eos(const Vocab& v) {
  PostProcessor post;
  if (v.add_bos) post.prefix.push_back(v.bos);
  if (v.add_eos) post.suffix.push_back(v.eos);
  return post;
}

// SentencePiece BPE without merges ("llama"): "▁" for spaces, merges by score, byte fallback.
void spm_pipeline(Tokenizer::Parts& p) {
  const Vocab& v = p.vocab;
  std::vector<std::unique_ptr<Normalizer>> norm;
  if (v.add_space_prefix) norm.push_back(std::make_unique<PrependNormalizer>(std::string(kSpmSpace)));
  norm.push_back(std::make_unique<ReplaceNormalizer>(Pattern::literal(" "), std::string(kSpmSpace)));
  p.normalizer = std::make_unique<SequenceNormalizer>(std::move(norm));
  p.model = std::make_unique<SpmBpeModel>(v);

  std::vector<std::unique_ptr<Decoder>> dec;
  dec.push_back(std::make_unique<ReplaceDecoder>(Pattern::literal(std::string(kSpmSpace)), " "));
  dec.push_back(std::make_unique<ByteFallbackDecoder>());
  dec.push_back(std::make_unique<FuseDecoder>());
  if (v.add_space_prefix) dec.push_back(std::make_unique<StripDecoder>(" ", 1, 0));
  p.decoder = std::make_unique<SequenceDecoder>(std::move(dec));
  p.first_token_even_if_skipped = true;
}

// Byte-level BPE ("gpt2"): the regexes of tokenizer.ggml.pre, byte-level mapping, merges.
void byte_level_bpe_pipeline(Tokenizer::Parts& p) {
  const Vocab& v = p.vocab;
  if (v.merges.empty()) {
    fail("tokenizer model 'gpt2' needs merges (tokenizer.ggml.merges), and the vocabulary has none");
  }
  const PreType& type = find_pre_type(v.pre);
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  for (const char* re : type.regexes) {
    steps.push_back(std::make_unique<SplitPreTokenizer>(
        Pattern::regex(std::make_shared<const Regex>(re)), SplitBehavior::Isolated));
  }
  steps.push_back(std::make_unique<ByteLevelPreTokenizer>(false, false));
  p.pre_tokenizer = std::make_unique<SequencePreTokenizer>(std::move(steps));

  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(v.merges.size());
  for (const std::string& m : v.merges) merges.push_back(BpeModel::split_merge(m));
  BpeOptions options;
  options.ignore_merges = type.ignore_merges;
  p.model = std::make_unique<BpeModel>(vocab_pairs(v), merges, options, /*strict=*/false);
  p.decoder = std::make_unique<ByteLevelDecoder>();
}

// llama.cpp stores BERT's WordPiece vocabulary SentencePiece-style: "▁word" starts a word,
// "piece" continues one (HF "##piece"), "[...]" tokens are kept. Undo that.
std::string wordpiece_text(const std::string& token) {
  if (token.size() >= 2 && token.front() == '[' && token.back() == ']') return token;
  if (token.compare(0, kSpmSpace.size(), kSpmSpace) == 0) return token.substr(kSpmSpace.size());
  return "##" + token;
}

// WordPiece ("bert"): BERT's normalizer and pre-tokenizer, greedy longest pieces.
void wordpiece_pipeline(Tokenizer::Parts& p) {
  Vocab& v = p.vocab;
  if (v.unk < 0) fail("tokenizer model 'bert' needs an unknown token (tokenizer.ggml.unknown_token_id)");
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const TokenType t = v.types[i];
    if (t == TokenType::Normal || t == TokenType::Undefined) v.tokens[i] = wordpiece_text(v.tokens[i]);
  }
  p.normalizer = std::make_unique<BertNormalizer>(true, true, true, true);
  p.pre_tokenizer = std::make_unique<BertPreTokenizer>();
  p.model = std::make_unique<WordPieceModel>(vocab_pairs(v), v.tokens[v.unk], "##", 100);
  p.decoder = std::make_unique<WordPieceDecoder>("##", true);
}

}  // namespace

bool gguf_pre_adds_bos(std::string_view pre) {
  for (const PreType& t : pre_types()) {
    for (std::string_view name : t.names) {
      if (name == pre) return t.adds_bos;
    }
  }
  return false;
}

Tokenizer::Parts gguf_pipeline(Vocab v) {
  if (v.model != "llama" && v.model != "gpt2" && v.model != "bert") {
    fail("tokenizer model '{}' is not supported (supported: 'llama' SentencePiece BPE, 'gpt2' "
         "byte-level BPE, 'bert' WordPiece)",
         v.model);
  }
  validate(v);
  Tokenizer::Parts p;
  p.vocab = std::move(v);
  if (p.vocab.model == "llama") {
    spm_pipeline(p);
  } else if (p.vocab.model == "gpt2") {
    byte_level_bpe_pipeline(p);
  } else {
    wordpiece_pipeline(p);
  }
  p.added = added_tokens_of(p.vocab);
  p.post = bos_eos(p.vocab);
  return p;
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(Vocab v) { return assemble(gguf_pipeline(std::move(v))); }

}  // namespace hearth::tok
