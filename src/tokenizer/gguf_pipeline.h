// The tokenizer pipelines llama.cpp builds for GGUF vocabularies, made of the same steps as
// a tokenizer.json pipeline (Tokenizer::from_vocab uses them).
#pragma once
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace hearth::tok {

// Whether llama.cpp adds BOS by default for this tokenizer.ggml.pre (Llama 3 style ones).
bool gguf_pre_adds_bos(std::string_view pre);

// Checks the vocabulary (sizes, ids, byte tokens, model-specific needs), settles defaults
// and token types, and builds the steps for its model. Throws hearth::Error.
Tokenizer::Parts gguf_pipeline(Vocab v);

}  // namespace hearth::tok
