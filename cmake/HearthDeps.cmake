# Every dependency is a Debian 12 package (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
# Boost.Beast + Boost.Asio (header-only) for `hearth serve`; Debian libboost1.81-dev.
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS headers)
find_package(ZLIB REQUIRED)  # gzip-compressed tokenizer.json files
find_package(PkgConfig REQUIRED)
# Tokenizers: PCRE2 runs the pre-tokenizer regexes of tokenizer.json files (UTF + UCP, JIT);
# utf8proc supplies Unicode normalization (NFC/NFKC/...) and character categories.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# Guardrails (src/guard/): the operator's policy file is TOML (Debian libtomlplusplus-dev,
# header-only use through its compiled library) and every decision is one spdlog line.
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)

add_library(hearth_deps INTERFACE)
target_link_libraries(hearth_deps INTERFACE Threads::Threads nlohmann_json::nlohmann_json fmt::fmt
                      ZLIB::ZLIB PkgConfig::PCRE2 PkgConfig::UTF8PROC Boost::headers
                      tomlplusplus::tomlplusplus spdlog::spdlog)

# `hearth chat`: line editing and history (libedit's readline interface).
pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)

add_library(hearth_app_deps INTERFACE)
target_link_libraries(hearth_app_deps INTERFACE CLI11::CLI11 PkgConfig::LIBEDIT)
