// hearth tokenize / detokenize / template: the text side of a model, on its own.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "engine/model_loader.h"
#include "template/chat_template.h"
#include "template/error.h"
#include "template/template.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

struct TokenizerSource {
  std::string model, tokenizer;
  void add_to(CLI::App* cmd) {
    cmd->add_option("-m,--model", model, "Take the tokenizer of this model (path or model id)");
    cmd->add_option("--tokenizer", tokenizer,
                    "A folder with tokenizer.json, a tokenizer.json file, or a .gguf");
  }
  std::unique_ptr<tok::Tokenizer> load() const {
    if (model.empty() == tokenizer.empty())
      fail("give exactly one of -m MODEL or --tokenizer PATH");
    return tokenizer.empty() ? load_model_tokenizer(model) : tok::load_tokenizer(tokenizer);
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}: check the path", path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string read_all_stdin() {
  std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return s;
}

}  // namespace

void add_text_commands(CLI::App& app) {
  {
    struct Opts {
      TokenizerSource src;
      std::string text;
      bool no_special = false, json = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
    o->src.add_to(cmd);
    cmd->add_option("text", o->text, "The text, or - to read it verbatim from stdin")->required();
    cmd->add_flag("--no-special", o->no_special, "Add no BOS/EOS (add_special_tokens=False)");
    cmd->add_flag("--json", o->json, "Print {\"ids\": [...], \"tokens\": [...]}");
    cmd->callback([o] {
      const auto t = o->src.load();
      const std::string text = o->text == "-" ? read_all_stdin() : o->text;
      const auto ids = t->encode(text, /*add_special=*/!o->no_special, /*parse_special=*/true);
      if (o->json) {
        nlohmann::json j{{"ids", ids}, {"tokens", nlohmann::json::array()}};
        for (int32_t id : ids) j["tokens"].push_back(t->token_piece(id));
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return;
      }
      std::string line;
      for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
      std::printf("%s\n", line.c_str());
    });
  }
  {
    struct Opts {
      TokenizerSource src;
      std::vector<std::string> ids;
      bool skip_special = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = app.add_subcommand("detokenize", "Print the text of token ids");
    o->src.add_to(cmd);
    cmd->add_option("ids", o->ids, "Token ids (space or comma separated)")->required();
    cmd->add_flag("--skip-special", o->skip_special, "Leave out special tokens");
    cmd->callback([o] {
      const auto t = o->src.load();
      std::vector<int32_t> ids;
      for (const auto& arg : o->ids) {
        size_t i = 0;
        while (i < arg.size()) {
          size_t j = arg.find(',', i);
          if (j == std::string::npos) j = arg.size();
          const std::string item = arg.substr(i, j - i);
          if (!item.empty()) {
            size_t used = 0;
            long v = -1;
            try {
              v = std::stol(item, &used);
            } catch (const std::exception&) {
            }
            if (used != item.size() || v < 0 || v >= t->n_vocab())
              fail("'{}' is not a token id of this vocabulary (0..{})", item, t->n_vocab() - 1);
            ids.push_back(static_cast<int32_t>(v));
          }
          i = j + 1;
        }
      }
      const std::string text = t->decode(ids, o->skip_special);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::printf("\n");
    });
  }
  {
    struct Opts {
      std::string model, template_file, vars;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = app.add_subcommand("template", "Render a chat template with variables, exactly");
    cmd->add_option("-m,--model", o->model, "Use this model's chat template");
    cmd->add_option("--template", o->template_file, "A Jinja template file");
    cmd->add_option("--vars", o->vars, "JSON file with the variables (messages, add_generation_prompt, ...)")
        ->required();
    cmd->callback([o] {
      if (o->model.empty() == o->template_file.empty())
        fail("give exactly one of -m MODEL or --template FILE");
      // Key order matters (tojson keeps it), so the variables are read insertion-ordered.
      const std::string text = read_file(o->vars);
      const auto vars = nlohmann::ordered_json::parse(text, nullptr, false);
      if (vars.is_discarded()) fail("{}: not valid JSON", o->vars);
      if (!vars.is_object()) fail("{}: the variables must be a JSON object", o->vars);
      const std::string source = chat_template_source(o->model, o->template_file);
      const std::string name = o->template_file.empty() ? o->model : o->template_file;
      std::string out;
      try {
        out = tmpl::Template::parse(source, name).render(vars);
      } catch (const tmpl::TemplateError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::exit(3);  // the template raised or failed: its message, status 3
      }
      std::fwrite(out.data(), 1, out.size(), stdout);
    });
  }
}

}  // namespace hearth::cli
