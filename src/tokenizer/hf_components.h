// tokenizer.json's "normalizer", "pre_tokenizer" and "decoder" objects -> pipeline steps.
// `source` names the file in errors; an unsupported "type" throws hearth::Error naming it.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "tokenizer/pipeline.h"
#include "tokenizer/split.h"

namespace hearth::tok {

// null JSON gives null. `depth`: how deep in Sequences this object sits (at most 32).
std::unique_ptr<Normalizer> normalizer_from_json(const nlohmann::json& j, const std::string& source,
                                                 int depth = 0);
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& j,
                                                      const std::string& source, int depth = 0);
std::unique_ptr<Decoder> decoder_from_json(const nlohmann::json& j, const std::string& source,
                                           int depth = 0);

// {"String": "..."} or {"Regex": "..."}.
Pattern pattern_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace hearth::tok
