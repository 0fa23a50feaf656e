// Tokenizer::from_hf_json, load_hf_tokenizer and load_tokenizer: a Hugging Face
// tokenizer.json (+ tokenizer_config.json) -> the pipeline it describes.
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "io/gguf.h"
#include "io/json_file.h"
#include "tokenizer/bpe.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/hf_components.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unigram.h"
#include "tokenizer/wordpiece.h"

namespace hearth::tok {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Ids beyond this many more than the file's tokens mean a corrupt file, not a sparse one;
// refusing them keeps a bad id from allocating gigabytes.
constexpr int64_t kMaxIdSlack = 1 << 20;
// Decompressed tokenizer files larger than this are refused (no sane one comes close).
constexpr size_t kMaxJsonBytes = size_t{1} << 30;

using VocabPairs = std::vector<std::pair<std::string, int32_t>>;

int32_t checked_id(const json& id, const std::string& what, const std::string& source) {
  if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
    fail("{}: {} has id {}, which is not a token id", source, what, id.dump());
  }
  return id.get<int32_t>();
}

VocabPairs vocab_object(const json& vocab, const std::string& source) {
  if (!vocab.is_object()) fail("{}: model.vocab must be an object of token: id", source);
  VocabPairs pairs;
  pairs.reserve(vocab.size());
  for (const auto& [text, id] : vocab.items()) pairs.emplace_back(text, checked_id(id, "token '" + text + "'", source));
  return pairs;
}

std::string optional_string(const json& j, const char* field) {
  return j.contains(field) && j.at(field).is_string() ? j.at(field).get<std::string>() : std::string();
}

// ---- models ----

std::unique_ptr<Model> bpe_from_json(const json& m, VocabPairs& vocab, const std::string& source) {
  vocab = vocab_object(m.at("vocab"), source);
  std::vector<std::pair<std::string, std::string>> merges;
  if (m.contains("merges")) {
    const json& list = m.at("merges");
    if (!list.is_array()) fail("{}: model.merges must be a list", source);
    merges.reserve(list.size());
    for (const json& merge : list) {
      if (merge.is_string()) {
        merges.push_back(BpeModel::split_merge(merge.get<std::string>()));
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      } else {
        fail("{}: merge {} is neither \"a b\" nor [\"a\", \"b\"]", source, merge.dump());
      }
    }
  }
  BpeOptions options;
  options.unk_token = optional_string(m, "unk_token");
  options.continuing_subword_prefix = optional_string(m, "continuing_subword_prefix");
  options.end_of_word_suffix = optional_string(m, "end_of_word_suffix");
  options.fuse_unk = m.value("fuse_unk", false);
  options.byte_fallback = m.value("byte_fallback", false);
  options.ignore_merges = m.value("ignore_merges", false);
  // "dropout" randomizes merges for training; inference runs without it, as the HF library
  // does when dropout is 0.
  return std::make_unique<BpeModel>(vocab, merges, std::move(options), /*strict=*/true);
}

std::unique_ptr<Model> unigram_from_json(const json& m, VocabPairs& vocab, const std::string& source) {
  const json& list = m.at("vocab");
  if (!list.is_array()) fail("{}: Unigram model.vocab must be a list of [piece, score]", source);
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(list.size());
  for (const json& entry : list) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number()) {
      fail("{}: Unigram piece {} is not [text, score]", source, entry.dump());
    }
    vocab.emplace_back(entry[0].get<std::string>(), static_cast<int32_t>(pieces.size()));
    pieces.emplace_back(entry[0].get<std::string>(), entry[1].get<double>());
  }
  const int32_t unk = m.contains("unk_id") && !m.at("unk_id").is_null()
                          ? checked_id(m.at("unk_id"), "unk_id", source)
                          : -1;
  return std::make_unique<UnigramModel>(std::move(pieces), unk, m.value("byte_fallback", false));
}

std::unique_ptr<Model> wordpiece_from_json(const json& m, VocabPairs& vocab, const std::string& source) {
  vocab = vocab_object(m.at("vocab"), source);
  const int64_t max_chars = m.value("max_input_chars_per_word", int64_t{100});
  return std::make_unique<WordPieceModel>(vocab, m.value("unk_token", std::string("[UNK]")),
                                          m.value("continuing_subword_prefix", std::string("##")),
                                          static_cast<size_t>(std::max<int64_t>(max_chars, 0)));
}

std::unique_ptr<Model> model_from_json(const json& m, VocabPairs& vocab, std::string& unk_token,
                                       const std::string& source) {
  if (!m.is_object()) fail("{}: \"model\" is missing", source);
  std::string type = optional_string(m, "type");
  if (type.empty()) {  // older files leave the type out; the fields tell
    type = m.contains("merges") ? "BPE" : m.contains("vocab") && m.at("vocab").is_array() ? "Unigram" : "WordPiece";
  }
  if (type == "BPE") {
    unk_token = optional_string(m, "unk_token");
    return bpe_from_json(m, vocab, source);
  }
  if (type == "Unigram") {
    auto model = unigram_from_json(m, vocab, source);
    if (m.contains("unk_id") && m.at("unk_id").is_number_integer()) {
      const auto id = m.at("unk_id").get<size_t>();
      if (id < vocab.size()) unk_token = vocab[id].first;
    }
    return model;
  }
  if (type == "WordPiece") {
    unk_token = m.value("unk_token", std::string("[UNK]"));
    return wordpiece_from_json(m, vocab, source);
  }
  fail("{}: model type '{}' is not supported (supported: BPE, Unigram, WordPiece)", source, type);
}

std::vector<AddedToken> added_from_json(const json& j, const std::string& source) {
  std::vector<AddedToken> added;
  if (!j.contains("added_tokens") || j.at("added_tokens").is_null()) return added;
  for (const json& a : j.at("added_tokens")) {
    AddedToken t;
    t.content = a.at("content").get<std::string>();
    t.id = checked_id(a.at("id"), "added token '" + t.content + "'", source);
    t.special = a.value("special", false);
    t.single_word = a.value("single_word", false);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    t.normalized = a.value("normalized", !t.special);
    added.push_back(std::move(t));
  }
  return added;
}

// tokenizer_config.json writes special tokens as "text" or {"content": "text", ...}.
std::string config_token(const json* config, const char* field) {
  if (config == nullptr || !config->contains(field)) return {};
  const json& v = config->at(field);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) {
    return v.at("content").get<std::string>();
  }
  return {};
}

std::string chat_template_of(const json* config) {
  if (config == nullptr || !config->contains("chat_template")) return {};
  const json& t = config->at("chat_template");
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {  // named templates: the "default" one, else the first
    for (const json& named : t) {
      if (named.value("name", std::string()) == "default") return named.value("template", std::string());
    }
    if (!t.empty()) return t.at(0).value("template", std::string());
  }
  return {};
}

std::unique_ptr<Tokenizer> build(const json& j, const json* config, const std::string& source) {
  if (!j.is_object()) fail("{}: a tokenizer.json must be a JSON object", source);
  Tokenizer::Parts p;
  VocabPairs vocab;
  std::string unk_token;
  p.model = model_from_json(j.contains("model") ? j.at("model") : json(), vocab, unk_token, source);
  p.added = added_from_json(j, source);

  // The token list by id: model vocabulary, then added tokens (which may reuse its ids).
  int64_t max_id = -1;
  for (const auto& [text, id] : vocab) max_id = std::max<int64_t>(max_id, id);
  for (const AddedToken& a : p.added) max_id = std::max<int64_t>(max_id, a.id);
  if (max_id < 0) fail("{}: the tokenizer has no tokens", source);
  if (max_id >= static_cast<int64_t>(vocab.size() + p.added.size()) + kMaxIdSlack) {
    fail("{}: token id {} is far beyond the {} tokens the file defines", source, max_id,
         vocab.size() + p.added.size());
  }
  Vocab& v = p.vocab;
  v.model = "hf";
  v.tokens.assign(static_cast<size_t>(max_id) + 1, std::string());
  v.types.assign(v.tokens.size(), TokenType::Unused);  // ids the file leaves out
  std::unordered_map<std::string, int32_t> ids;  // text -> id; added tokens take precedence
  for (const auto& [text, id] : vocab) {
    v.tokens[id] = text;
    v.types[id] = TokenType::Normal;
    ids.emplace(text, id);
  }
  for (const AddedToken& a : p.added) {
    v.tokens[a.id] = a.content;
    v.types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
    ids[a.content] = a.id;
  }
  auto token_id = [&](const std::string& text) -> int32_t {
    const auto it = ids.find(text);
    return it == ids.end() ? -1 : it->second;
  };

  p.normalizer = normalizer_from_json(j.value("normalizer", json()), source);
  p.pre_tokenizer = pre_tokenizer_from_json(j.value("pre_tokenizer", json()), source);
  p.decoder = decoder_from_json(j.value("decoder", json()), source);
  p.post = post_processor_from_json(j.value("post_processor", json()), token_id, source);

  v.unk = unk_token.empty() ? -1 : token_id(unk_token);
  v.bos = token_id(config_token(config, "bos_token"));
  v.eos = token_id(config_token(config, "eos_token"));
  v.pad = token_id(config_token(config, "pad_token"));
  v.chat_template = chat_template_of(config);
  // transformers: add_bos_token / add_eos_token in the config replace the post-processor
  // with BOS $A EOS (each only when asked for and defined).
  if (config != nullptr && (config->contains("add_bos_token") || config->contains("add_eos_token"))) {
    p.post = {};
    if (config->value("add_bos_token", false) && v.bos >= 0) p.post.prefix.push_back(v.bos);
    if (config->value("add_eos_token", false) && v.eos >= 0) p.post.suffix.push_back(v.eos);
  }
  v.add_bos = !p.post.prefix.empty() && p.post.prefix.front() == v.bos;
  v.add_eos = !p.post.suffix.empty() && p.post.suffix.back() == v.eos;
  v.add_space_prefix = false;
  return Tokenizer::assemble(std::move(p));
}

// ---- files ----

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gunzip(const std::string& data, const std::string& source) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail("{}: cannot start gzip decompression", source);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      fail("{}: not a valid gzip file ({})", source, zs.msg != nullptr ? zs.msg : "inflate failed");
    }
    out.append(buffer, sizeof(buffer) - zs.avail_out);
    if (out.size() > kMaxJsonBytes) {
      inflateEnd(&zs);
      fail("{}: decompresses to more than 1 GiB; not a tokenizer file", source);
    }
    if (rc != Z_STREAM_END && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      fail("{}: the gzip data is cut short", source);
    }
  }
  inflateEnd(&zs);
  return out;
}

// Reads `path`, or `path`.gz when only that exists; nullopt when neither does.
std::optional<json> read_json_maybe_gz(const fs::path& path) {
  fs::path gz = path;
  gz += ".gz";
  if (fs::exists(path)) return io::read_json_file(path.string());
  if (fs::exists(gz)) return io::parse_json(gunzip(read_bytes(gz), gz.string()), gz.string());
  return std::nullopt;
}

json read_json_file_maybe_gz(const fs::path& path) {
  if (path.extension() == ".gz") return io::parse_json(gunzip(read_bytes(path), path.string()), path.string());
  return io::read_json_file(path.string());
}

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Runs `make`, turning JSON library errors and errors that do not name `source` into
// hearth::Errors that do.
template <typename Make>
std::unique_ptr<Tokenizer> naming_source(const std::string& source, Make&& make) {
  try {
    return make();
  } catch (const json::exception& e) {
    fail("{}: {}", source, e.what());
  } catch (const FormatError&) {
    throw;
  } catch (const Error& e) {
    if (std::string_view(e.what()).find(source) != std::string_view::npos) throw;
    fail("{}: {}", source, e.what());
  }
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_json(const json& tokenizer_json, const json* tokenizer_config) {
  const std::string source = "tokenizer.json";
  return naming_source(source, [&] { return build(tokenizer_json, tokenizer_config, source); });
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
  const fs::path p(path);
  std::optional<json> tokenizer_json, config;
  fs::path source = p;
  if (fs::is_directory(p)) {
    source = p / "tokenizer.json";
    tokenizer_json = read_json_maybe_gz(source);
    if (!tokenizer_json) fail("{}: no tokenizer.json (or tokenizer.json.gz) in this folder", path);
    config = read_json_maybe_gz(p / "tokenizer_config.json");
  } else {
    if (!fs::exists(p)) fail("cannot open {}: no such file or folder", path);
    tokenizer_json = read_json_file_maybe_gz(p);
    config = read_json_maybe_gz(p.parent_path() / "tokenizer_config.json");
  }
  return naming_source(source.string(), [&] {
    return build(*tokenizer_json, config ? &*config : nullptr, source.string());
  });
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  bool gguf = has_suffix(path, ".gguf");
  if (!gguf && fs::is_regular_file(path)) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    gguf = in.gcount() == 4 && std::string_view(magic, 4) == "GGUF";
  }
  if (!gguf) return load_hf_tokenizer(path);
  return naming_source(path, [&] { return Tokenizer::from_vocab(vocab_from_gguf(io::GGUFFile::open(path))); });
}

}  // namespace hearth::tok
