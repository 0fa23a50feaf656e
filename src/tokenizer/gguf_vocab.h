// Reads a tokenizer vocabulary from GGUF metadata (the tokenizer.ggml.* keys).
#pragma once
#include "io/gguf.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

// Keys: tokenizer.ggml.model, .tokens (required); .scores, .token_type, .merges, .pre,
// .bos_token_id, .eos_token_id, .unknown_token_id, .padding_token_id (BERT: .cls_token_id
// and .seperator_token_id stand in for BOS/EOS), .add_bos_token, .add_eos_token,
// .add_space_prefix, and tokenizer.chat_template (optional, with llama.cpp's defaults). A special token id written as
// 0xFFFFFFFF or a negative number means "none". Throws hearth::FormatError naming the file
// and key for missing, mistyped or inconsistent entries; whether the model is supported is
// decided later by Tokenizer::from_vocab.
Vocab vocab_from_gguf(const io::GGUFFile& file);

}  // namespace hearth::tok
