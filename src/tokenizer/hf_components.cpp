#include "tokenizer/hf_components.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"

namespace hearth::tok {

namespace {

using nlohmann::json;

std::string type_of(const json& j, const char* what, const std::string& source) {
  if (!j.is_object() || !j.contains("type") || !j.at("type").is_string()) {
    fail("{}: {} has no \"type\"", source, what);
  }
  return j.at("type").get<std::string>();
}

// A field that must be one character (Metaspace replacement, Strip content).
std::string one_char(const json& j, const char* field, const char* fallback, const std::string& source) {
  const std::string s = j.contains(field) && !j.at(field).is_null() ? j.at(field).get<std::string>()
                                                                     : std::string(fallback);
  if (s.empty()) fail("{}: \"{}\" must be one character", source, field);
  return s;
}

// Metaspace's prepend_scheme, or the older add_prefix_space flag.
PrependScheme prepend_scheme(const json& j, const std::string& source) {
  if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
    const std::string s = j.at("prepend_scheme").get<std::string>();
    if (s == "always") return PrependScheme::Always;
    if (s == "first") return PrependScheme::First;
    if (s == "never") return PrependScheme::Never;
    fail("{}: Metaspace prepend_scheme '{}' is not always, first or never", source, s);
  }
  return j.value("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
}

// Sequences nest; a file nesting them deeper than any real tokenizer is refused before the
// recursion below could exhaust the stack.
constexpr int kMaxNesting = 32;

void check_depth(int depth, const std::string& source) {
  if (depth > kMaxNesting) fail("{}: Sequence steps nest more than {} levels deep", source, kMaxNesting);
}

unicode::Form form_of(const std::string& type) {
  if (type == "NFC") return unicode::Form::NFC;
  if (type == "NFD") return unicode::Form::NFD;
  if (type == "NFKC") return unicode::Form::NFKC;
  return unicode::Form::NFKD;
}

}  // namespace

Pattern pattern_from_json(const json& j, const std::string& source) {
  if (j.is_object() && j.contains("String")) return Pattern::literal(j.at("String").get<std::string>());
  if (j.is_object() && j.contains("Regex")) {
    return Pattern::regex(std::make_shared<const Regex>(j.at("Regex").get<std::string>()));
  }
  fail("{}: pattern {} is neither {{\"String\": ...}} nor {{\"Regex\": ...}}", source, j.dump());
}

std::unique_ptr<Normalizer> normalizer_from_json(const json& j, const std::string& source, int depth) {
  if (j.is_null()) return nullptr;
  check_depth(depth, source);
  const std::string type = type_of(j, "a normalizer", source);
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    return std::make_unique<UnicodeNormalizer>(form_of(type));
  }
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(j.at("prepend").get<std::string>());
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(pattern_from_json(j.at("pattern"), source),
                                               j.at("content").get<std::string>());
  }
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(j.value("strip_left", true), j.value("strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "BertNormalizer") {
    const bool lowercase = j.value("lowercase", true);
    const bool strip_accents = j.contains("strip_accents") && !j.at("strip_accents").is_null()
                                   ? j.at("strip_accents").get<bool>()
                                   : lowercase;
    return std::make_unique<BertNormalizer>(j.value("clean_text", true),
                                            j.value("handle_chinese_chars", true), strip_accents,
                                            lowercase);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const json& step : j.at("normalizers")) {
      if (auto n = normalizer_from_json(step, source, depth + 1)) steps.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  fail("{}: normalizer type '{}' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, "
       "Prepend, Replace, Strip, StripAccents, BertNormalizer, Sequence)",
       source, type);
}

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const json& j, const std::string& source,
                                                      int depth) {
  if (j.is_null()) return nullptr;
  check_depth(depth, source);
  const std::string type = type_of(j, "a pre_tokenizer", source);
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(j.value("add_prefix_space", true),
                                                   j.value("use_regex", true));
  }
  if (type == "Split") {
    Pattern pattern = pattern_from_json(j.at("pattern"), source);
    if (j.value("invert", false)) pattern = pattern.inverted();
    return std::make_unique<SplitPreTokenizer>(
        std::move(pattern), split_behavior_from_name(j.at("behavior").get<std::string>()));
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(one_char(j, "replacement", "\xE2\x96\x81", source),
                                                   prepend_scheme(j, source), j.value("split", true));
  }
  if (type == "Digits") return std::make_unique<DigitsPreTokenizer>(j.value("individual_digits", false));
  if (type == "Punctuation") {
    return std::make_unique<PunctuationPreTokenizer>(
        split_behavior_from_name(j.value("behavior", std::string("Isolated"))));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "CharDelimiterSplit") {
    return std::make_unique<SplitPreTokenizer>(
        Pattern::literal(one_char(j, "delimiter", "", source)), SplitBehavior::Removed);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const json& step : j.at("pretokenizers")) {
      if (auto p = pre_tokenizer_from_json(step, source, depth + 1)) steps.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  fail("{}: pre_tokenizer type '{}' is not supported (supported: ByteLevel, Split, Metaspace, "
       "Digits, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit, "
       "Sequence)",
       source, type);
}

std::unique_ptr<Decoder> decoder_from_json(const json& j, const std::string& source, int depth) {
  if (j.is_null()) return nullptr;
  check_depth(depth, source);
  const std::string type = type_of(j, "a decoder", source);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    return std::make_unique<MetaspaceDecoder>(one_char(j, "replacement", "\xE2\x96\x81", source),
                                              prepend_scheme(j, source));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(one_char(j, "content", " ", source),
                                          j.value("start", size_t{0}), j.value("stop", size_t{0}));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(pattern_from_json(j.at("pattern"), source),
                                            j.at("content").get<std::string>());
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(j.value("prefix", std::string("##")),
                                              j.value("cleanup", true));
  }
  if (type == "BPEDecoder") {
    return std::make_unique<BpeSuffixDecoder>(j.value("suffix", std::string("</w>")));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const json& step : j.at("decoders")) {
      if (auto d = decoder_from_json(step, source, depth + 1)) steps.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  fail("{}: decoder type '{}' is not supported (supported: ByteLevel, Metaspace, ByteFallback, "
       "Fuse, Strip, Replace, WordPiece, BPEDecoder, Sequence)",
       source, type);
}

}  // namespace hearth::tok
