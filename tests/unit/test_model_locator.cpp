// locate_model: paths, the Hugging Face cache layout (snapshots whose files are symlinks
// into blobs/), hearth's models folder, and the not-found message.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "io/model_locator.h"
#include "unit/io_test_helpers.h"

using namespace hearth;
using namespace hearth::io;
using namespace hearth::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kEnvVars[] = {"HF_HUB_CACHE", "HF_HOME",       "XDG_CACHE_HOME",
                                    "HEARTH_MODELS", "XDG_DATA_HOME", "HOME"};

// Points the HF cache and hearth's models folder at fresh temp folders; restores the
// environment afterwards.
class ModelLocator : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kEnvVars) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(name);
    }
    ::setenv("HF_HUB_CACHE", hf().c_str(), 1);
    ::setenv("HEARTH_MODELS", models().c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

  std::string hf() const { return tmp_.file("hf"); }
  std::string models() const { return tmp_.file("models"); }

  // A snapshot as huggingface_hub lays it out: each file a relative symlink to a blob.
  std::string add_snapshot(const std::string& repo, const std::string& rev,
                           const std::vector<std::string>& files) {
    const fs::path root = fs::path(hf()) / repo;
    const fs::path snap = root / "snapshots" / rev;
    fs::create_directories(snap);
    fs::create_directories(root / "blobs");
    for (const auto& f : files) {
      const std::string blob = "blob-" + rev + "-" + f;
      write_text((root / "blobs" / blob).string(), f == "x.gguf" ? "GGUF" : "{}");
      fs::create_directories((snap / f).parent_path());
      fs::create_symlink(fs::path("../../blobs") / blob, snap / f);
    }
    return snap.string();
  }
  void set_ref(const std::string& repo, const std::string& rev) {
    write_text((fs::path(hf()) / repo / "refs" / "main").string(), rev);
  }

  TempDir tmp_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void expect_location(const ModelLocation& loc, const std::string& path, ModelFormat format) {
  EXPECT_EQ(loc.path, path);
  EXPECT_EQ(loc.format, format);
}

TEST_F(ModelLocator, PathsToRealModels) {
  expect_location(locate_model(testdata("models/stories260K.gguf")),
                  testdata("models/stories260K.gguf"), ModelFormat::GGUF);
  expect_location(locate_model(testdata("models/stories260K-hf")), testdata("models/stories260K-hf"),
                  ModelFormat::HFFolder);
  expect_location(locate_model(testdata("models/stories260K-hf/config.json")),
                  testdata("models/stories260K-hf"), ModelFormat::HFFolder);
}

TEST_F(ModelLocator, FolderPaths) {
  write_text(tmp_.file("one/model-q8.gguf"), "GGUF");
  expect_location(locate_model(tmp_.file("one")), tmp_.file("one/model-q8.gguf"), ModelFormat::GGUF);
  write_text(tmp_.file("one/model-q4.gguf"), "GGUF");
  expect_error<Error>([&] { locate_model(tmp_.file("one")); },
                      tmp_.file("one") + " has several .gguf files (model-q4.gguf, model-q8.gguf); "
                                         "pass the path of the one to load");
  fs::create_directories(tmp_.file("empty"));
  expect_error<Error>([&] { locate_model(tmp_.file("empty")); },
                      tmp_.file("empty") + " is a folder without config.json or a .gguf file");
  write_text(tmp_.file("notes.txt"), "hello");
  expect_error<Error>([&] { locate_model(tmp_.file("notes.txt")); },
                      tmp_.file("notes.txt") + " is not a .gguf file or a folder with config.json");
  // A GGUF file without the extension is recognised by its magic.
  write_text(tmp_.file("model.bin"), "GGUF....");
  expect_location(locate_model(tmp_.file("model.bin")), tmp_.file("model.bin"), ModelFormat::GGUF);
}

TEST_F(ModelLocator, MissingPathIsReportedAsAPath) {
  expect_error<Error>([] { locate_model("./nope/model.gguf"); },
                      "no such file or folder: ./nope/model.gguf");
  expect_error<Error>([] { locate_model("model.gguf"); }, "no such file or folder: model.gguf");
  expect_error<Error>([] { locate_model("org/bad name"); }, "no such file or folder: org/bad name");
  expect_error<Error>([] { locate_model("org/../etc"); }, "no such file or folder: org/../etc");
  expect_error<Error>([] { locate_model(""); },
                      "no model given; pass a path to a .gguf file, a folder with config.json, or "
                      "a model id such as ORG/NAME");
}

TEST_F(ModelLocator, HFCacheFollowsRefsMain) {
  const auto current = add_snapshot("models--org--llm", "aaa111",
                                    {"config.json", "model.safetensors", "tokenizer.json"});
  add_snapshot("models--org--llm", "bbb222", {"config.json", "model.safetensors"});
  set_ref("models--org--llm", "aaa111");
  expect_location(locate_model("org/llm"), current, ModelFormat::HFFolder);
}

TEST_F(ModelLocator, HFCacheFallsBackToTheNewestSnapshot) {
  const auto old_snap = add_snapshot("models--org--llm", "old", {"config.json", "model.safetensors"});
  const auto new_snap = add_snapshot("models--org--llm", "new", {"config.json", "model.safetensors"});
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(old_snap, now - std::chrono::hours(2));
  fs::last_write_time(new_snap, now - std::chrono::hours(1));
  expect_location(locate_model("org/llm"), new_snap, ModelFormat::HFFolder);
  // refs/main naming a snapshot that is not there is ignored too.
  set_ref("models--org--llm", "gone");
  expect_location(locate_model("org/llm"), new_snap, ModelFormat::HFFolder);
}

TEST_F(ModelLocator, HFCacheGGUFRepositories) {
  const auto snap = add_snapshot("models--TheOrg--Tiny-GGUF", "r1",
                                 {"config.json", "tiny.Q4_K_M.gguf", "tiny.Q8_0.gguf"});
  expect_error<Error>([] { locate_model("TheOrg/Tiny-GGUF"); },
                      snap + " has several .gguf files (tiny.Q4_K_M.gguf, tiny.Q8_0.gguf); pick one "
                             "with TheOrg/Tiny-GGUF:FILE");
  expect_location(locate_model("TheOrg/Tiny-GGUF:tiny.Q8_0.gguf"), snap + "/tiny.Q8_0.gguf",
                  ModelFormat::GGUF);
  expect_location(locate_model("TheOrg/Tiny-GGUF:q4_k_m"), snap + "/tiny.Q4_K_M.gguf",
                  ModelFormat::GGUF);
  expect_error<Error>([] { locate_model("TheOrg/Tiny-GGUF:tiny"); },
                      "'tiny' matches several files in " + snap +
                          " (tiny.Q4_K_M.gguf, tiny.Q8_0.gguf); give the full file name");
}

TEST_F(ModelLocator, GGUFRepositoryWithConfigJsonIsGGUF) {
  // GGUF repositories often ship a config.json; without safetensors weights the .gguf wins.
  const auto snap = add_snapshot("models--o--m", "r", {"config.json", "x.gguf"});
  expect_location(locate_model("o/m"), snap + "/x.gguf", ModelFormat::GGUF);
}

TEST_F(ModelLocator, HFCacheLocationFromHFHome) {
  ::unsetenv("HF_HUB_CACHE");
  ::setenv("HF_HOME", tmp_.file("hfhome").c_str(), 1);
  EXPECT_EQ(hf_hub_cache_dir(), tmp_.file("hfhome") + "/hub");
  ::unsetenv("HF_HOME");
  ::setenv("HOME", tmp_.file("home").c_str(), 1);
  EXPECT_EQ(hf_hub_cache_dir(), tmp_.file("home") + "/.cache/huggingface/hub");
  ::setenv("XDG_CACHE_HOME", tmp_.file("xdg").c_str(), 1);
  EXPECT_EQ(hf_hub_cache_dir(), tmp_.file("xdg") + "/huggingface/hub");
  ::unsetenv("HEARTH_MODELS");
  EXPECT_EQ(hearth_models_dir(), tmp_.file("home") + "/.local/share/hearth/models");
  ::setenv("XDG_DATA_HOME", tmp_.file("data").c_str(), 1);
  EXPECT_EQ(hearth_models_dir(), tmp_.file("data") + "/hearth/models");
}

TEST_F(ModelLocator, HearthModelsFolder) {
  write_text(models() + "/org/hf-style/config.json", "{}");
  write_text(models() + "/org/hf-style/model.safetensors", "");
  expect_location(locate_model("org/hf-style"), models() + "/org/hf-style", ModelFormat::HFFolder);

  write_text(models() + "/org--flat/m.gguf", "GGUF");
  expect_location(locate_model("org/flat"), models() + "/org--flat/m.gguf", ModelFormat::GGUF);

  write_text(models() + "/org/single.gguf", "GGUF");
  expect_location(locate_model("org/single"), models() + "/org/single.gguf", ModelFormat::GGUF);

  write_text(models() + "/loose.gguf", "GGUF");
  expect_location(locate_model("org/loose"), models() + "/loose.gguf", ModelFormat::GGUF);
  expect_location(locate_model("loose"), models() + "/loose.gguf", ModelFormat::GGUF);
}

TEST_F(ModelLocator, HFCacheComesFirst) {
  const auto snap = add_snapshot("models--org--both", "r", {"config.json", "model.safetensors"});
  write_text(models() + "/org/both/config.json", "{}");
  write_text(models() + "/org/both/model.safetensors", "");
  expect_location(locate_model("org/both"), snap, ModelFormat::HFFolder);
}

TEST_F(ModelLocator, BrokenBlobSymlinkIsNotAModel) {
  const auto snap = add_snapshot("models--org--partial", "r", {"x.gguf"});
  ASSERT_TRUE(fs::exists(snap + "/x.gguf"));
  fs::remove(fs::path(hf()) / "models--org--partial/blobs/blob-r-x.gguf");  // an interrupted download
  try {
    locate_model("org/partial");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("model 'org/partial' not found; looked in: " + snap))
        << e.what();
  }
}

TEST_F(ModelLocator, NotFoundListsEveryPlaceAndHowToGetIt) {
  expect_error<Error>(
      [] { locate_model("meta/llama"); },
      "model 'meta/llama' not found; looked in: " + hf() + "/models--meta--llama, " + models() +
          "/meta/llama, " + models() + "/meta--llama, " + models() + "/meta/llama.gguf, " +
          models() + "/llama.gguf; download it with `huggingface-cli download meta/llama` or pass "
          "a path to a .gguf file or a folder with config.json");
  const auto snap = add_snapshot("models--o--g", "r", {"config.json"});
  expect_error<Error>(
      [] { locate_model("o/g:g.Q4_0.gguf"); },
      "model 'o/g:g.Q4_0.gguf' not found; looked in: " + snap + ", " + models() + "/o/g, " +
          models() + "/o--g; download it with `huggingface-cli download o/g g.Q4_0.gguf` or pass "
          "a path to a .gguf file or a folder with config.json");
  expect_error<Error>(
      [] { locate_model("solo"); },
      "model 'solo' not found; looked in: " + hf() + "/models--solo, " + models() + "/solo, " +
          models() + "/solo.gguf; download it with `huggingface-cli download solo` or pass a path "
          "to a .gguf file or a folder with config.json");
}

}  // namespace
