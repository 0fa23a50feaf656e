#include "fit/names.h"

#include <algorithm>
#include <cctype>

namespace hearth::fit {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name)
    if (std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  return out;
}

std::vector<std::string> closest_names(std::string_view query,
                                       const std::vector<std::string>& candidates, size_t n) {
  const std::string q = normalize_name(query);
  struct Scored {
    size_t score;
    std::string name;
  };
  std::vector<Scored> scored;
  for (const auto& c : candidates) {
    const std::string norm = normalize_name(c);
    if (q.empty() || norm.empty()) continue;
    // Containment either way is the strongest hint ("4080" for "RTX 4080 Super"); otherwise
    // allow about a third of the characters to differ.
    size_t score;
    if (norm.find(q) != std::string::npos || q.find(norm) != std::string::npos)
      score = norm.size() > q.size() ? norm.size() - q.size() : q.size() - norm.size();
    else if (const size_t d = edit_distance(q, norm); d <= std::max<size_t>(2, q.size() / 3))
      score = 1000 + d;
    else
      continue;
    scored.push_back({score, c});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score; });
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == n) break;
    if (std::find(out.begin(), out.end(), s.name) == out.end()) out.push_back(s.name);
  }
  return out;
}

std::string join_or(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace hearth::fit
