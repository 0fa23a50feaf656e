// Matching what a person types against known names ("rtx-4080" -> "RTX 4080",
// "Mistral-7B" -> "mistral-7b-v0.1"), and suggesting close names when nothing matches.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace hearth::fit {

// Lowercase letters and digits only: "GeForce RTX-4080 " -> "geforcertx4080".
std::string normalize_name(std::string_view name);

// Up to `n` of `candidates`, best first, that look like `query`: those whose normalized form
// contains the query's (or is contained in it), then the nearest by edit distance. Empty
// when nothing is reasonably close.
std::vector<std::string> closest_names(std::string_view query,
                                       const std::vector<std::string>& candidates, size_t n = 4);

// "a, b or c" (for messages).
std::string join_or(const std::vector<std::string>& names);

}  // namespace hearth::fit
