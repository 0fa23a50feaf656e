// Post-processors of tokenizer.json ("post_processor" field) for single sequences: which
// ids go before and after the encoded text when special tokens are added.
#pragma once
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "tokenizer/pipeline.h"

namespace hearth::tok {

// TemplateProcessing ("single": special tokens around $A), BertProcessing and
// RobertaProcessing (cls ... sep), ByteLevel (adds nothing) and Sequence (each applied to
// the result of the previous). `token_id` resolves a token text (-1: unknown); `source`
// names the file in errors; `depth` counts enclosing Sequences (at most 32). Throws
// hearth::Error for other types or malformed fields.
PostProcessor post_processor_from_json(const nlohmann::json& j,
                                       const std::function<int32_t(const std::string&)>& token_id,
                                       const std::string& source, int depth = 0);

}  // namespace hearth::tok
