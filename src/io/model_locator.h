// Turning what a person types ("model.gguf", "./my-model/", "Qwen/Qwen3-0.6B",
// "TheBloke/Llama-2-7B-GGUF:llama-2-7b.Q4_K_M.gguf") into a file or folder to load.
#pragma once
#include <string>

namespace hearth::io {

enum class ModelFormat { GGUF, HFFolder };

struct ModelLocation {
  std::string path;  // the .gguf file, or the folder holding config.json
  ModelFormat format;
};

// `spec` is one of
//   * a path to a .gguf file (or any file starting with the GGUF magic);
//   * a path to a folder: a Hugging Face folder (config.json with safetensors weights), or
//     a folder holding exactly one .gguf file;
//   * a model id ORG/NAME or NAME, optionally followed by ":FILE" to pick one .gguf file
//     of the repository (FILE may also be a quantization tag such as "Q4_K_M", matched
//     case-insensitively against the .gguf file names).
// Model ids are looked up
//   1. in the Hugging Face cache (hf_hub_cache_dir()): models--ORG--NAME/snapshots/<rev>/,
//      using the revision named in refs/main, else the newest snapshot;
//   2. in hearth's models folder (hearth_models_dir()): ORG/NAME/, ORG--NAME/,
//      ORG/NAME.gguf, NAME.gguf (for a bare NAME: NAME/ and NAME.gguf).
// A folder with config.json and safetensors weights is an HF folder; otherwise a single
// .gguf file in it is the model (a folder with config.json but neither is still returned
// as an HF folder, so loading it reports what is missing).
// Throws hearth::Error when nothing matches (the message lists every place looked and how
// to get the model) or when a folder holds several .gguf files and none was picked.
ModelLocation locate_model(const std::string& spec);

// $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub (the huggingface_hub library's own order). Empty if no
// variable is set and HOME is unknown.
std::string hf_hub_cache_dir();
// $HEARTH_MODELS, else $XDG_DATA_HOME/hearth/models, else ~/.local/share/hearth/models.
std::string hearth_models_dir();

}  // namespace hearth::io
