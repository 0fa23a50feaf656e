// Heap bytes a parsed model file keeps for as long as the model is loaded: the GGUF metadata
// (the vocabulary arrays dominate: one value object per token, score and type) and the tensor
// tables with their name indexes. Walked from the parsed structures themselves, so a local
// model's plan includes them; for a model of 100k+ tokens they reach tens of MB.
#pragma once
#include <cstdint>

namespace hearth::io {
class GGUFFile;
class SafetensorsModel;
}  // namespace hearth::io

namespace hearth::fit {

uint64_t parsed_bytes(const io::GGUFFile& file);
uint64_t parsed_bytes(const io::SafetensorsModel& model);

}  // namespace hearth::fit
