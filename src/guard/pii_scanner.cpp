#include "guard/pii_scanner.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace hearth::guard {
namespace {

size_t count_digits(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

bool valid_email(std::string_view n, std::string_view, double) {
  // "image@2x.png" and "module@1.2.js" in code are file names, not addresses.
  static constexpr std::array<std::string_view, 14> kFileExtensions{
      "png", "jpg", "jpeg", "gif", "svg", "webp", "js", "ts", "py", "css", "json", "html", "md", "txt"};
  const size_t dot = n.rfind('.');
  const std::string_view tld = n.substr(dot + 1);
  return std::find(kFileExtensions.begin(), kFileExtensions.end(), tld) == kFileExtensions.end();
}

bool valid_phone(std::string_view n, std::string_view, double) {
  const size_t digits = count_digits(n);
  if (digits < 10 || digits > 15) return false;  // E.164 has at most 15 digits
  // Dotted groups of digits are versions and addresses, not phone numbers.
  if (std::count(n.begin(), n.end(), '.') >= 3) return false;
  return true;
}

bool valid_card(std::string_view n, std::string_view, double) {
  const size_t digits = count_digits(n);
  return digits >= 13 && digits <= 19 && luhn_valid(n);
}

bool valid_iban(std::string_view n, std::string_view, double) { return iban_valid(n); }

bool valid_ip(std::string_view n, std::string_view, double) {
  return n.find(':') != std::string_view::npos ? ipv6_valid(n) : ipv4_valid(n);
}

bool always(std::string_view, std::string_view, double) { return true; }

// A long token that mixes letters and digits and whose characters (case kept: the ORIGINAL
// bytes) are spread out like random data, not like words or identifiers.
bool valid_secret(std::string_view n, std::string_view original, double bits) {
  bool letter = false, digit = false;
  for (char c : n) {
    letter |= (c >= 'a' && c <= 'z');
    digit |= (c >= '0' && c <= '9');
  }
  if (!letter || !digit) return false;
  // A short string cannot reach a high per-character entropy: ask at most log2(len) - 0.5.
  const double needed = std::min(bits, std::log2(static_cast<double>(original.size())) - 0.5);
  return shannon_bits_per_char(original) >= needed;
}

}  // namespace

bool luhn_valid(std::string_view s) {
  int sum = 0, n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (*it < '0' || *it > '9') continue;
    int d = *it - '0';
    if (n++ % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return n > 0 && sum % 10 == 0;
}

bool iban_valid(std::string_view s) {
  std::string iban;
  for (char c : s) {
    if (c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    iban += c;
  }
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (!(iban[0] >= 'A' && iban[0] <= 'Z' && iban[1] >= 'A' && iban[1] <= 'Z' && iban[2] <= '9' && iban[3] <= '9'))
    return false;
  // Move the first four characters to the end, letters become 10..35, the number mod 97
  // must be 1 (computed piecewise: the number is up to 68 digits).
  const std::string rotated = iban.substr(4) + iban.substr(0, 4);
  int rem = 0;
  for (char c : rotated) {
    const int v = c <= '9' ? c - '0' : c - 'A' + 10;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem == 1;
}

bool ipv4_valid(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    const std::string_view part = s.substr(i, j - i);
    if (part.empty() || part.size() > 3 || count_digits(part) != part.size()) return false;
    if (part.size() > 1 && part[0] == '0') return false;  // "010" is not written in addresses
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

bool ipv6_valid(std::string_view s) {
  if (s.size() > 45 || std::count(s.begin(), s.end(), ':') < 2) return false;
  if (std::none_of(s.begin(), s.end(), [](char c) { return c != ':'; })) return false;  // "::"
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET6, std::string(s).c_str(), buf.data()) == 1;
}

double shannon_bits_per_char(std::string_view s) {
  if (s.empty()) return 0;
  std::array<int, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  for (int c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

PiiScanner::PiiScanner(const PiiPolicy& policy) : entropy_bits_(policy.entropy_bits_per_char) {
  struct Spec {
    const char* name;
    const char* placeholder;
    const char* pattern;
    bool (*valid)(std::string_view, std::string_view, double);
  };
  // Order matters: where candidates overlap, the earlier (more specific) detector keeps the
  // span. Patterns see case-folded text.
  static const Spec kSpecs[] = {
      {"api_key", "[API_KEY]",
       R"((?<![\w-])(?:sk-(?:proj-|ant-)?[a-z0-9_-]{20,}|sk_(?:live|test)_[a-z0-9]{16,}|gh[pousr]_[a-z0-9]{36,}|github_pat_[a-z0-9_]{40,}|akia[0-9a-z]{16}|xox[abprs]-[a-z0-9-]{10,}|aiza[0-9a-z_-]{35}|glpat-[a-z0-9_-]{20,}|hf_[a-z0-9]{30,}|-----begin[a-z ]*private key-----))",
       always},
      {"email", "[EMAIL]", R"((?<![\w.%+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}(?![\w(@-]))",
       valid_email},
      {"credit_card", "[CREDIT_CARD]", R"((?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]))", valid_card},
      {"iban", "[IBAN]",
       R"((?<![\w])[a-z]{2}\d{2}(?:[a-z0-9]{11,30}|(?: [a-z0-9]{4}){2,7}(?: [a-z0-9]{1,4})?)(?![\w]))", valid_iban},
      {"ip", "[IP_ADDRESS]",
       R"((?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}|(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4})(?![\w.:]))", valid_ip},
      // International (+CC ...), North American (NXX NXX XXXX) and trunk-prefixed national
      // (0...) shapes; a bare run of digits is not taken for a phone number.
      {"phone", "[PHONE]",
       R"((?<![\w+.-])(?:\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{1,4}|(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]?\d{4}|\(?0\d{1,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4})(?![\w.-]?\d))",
       valid_phone},
      {"secret", "[SECRET]", R"((?<![\w+/=-])[a-z0-9+/_=-]{20,}(?![\w+/=-]))", valid_secret},
  };
  for (const Spec& s : kSpecs) {
    if (std::find(policy.detectors.begin(), policy.detectors.end(), s.name) == policy.detectors.end())
      continue;
    detectors_.push_back({s.name, s.placeholder, std::make_unique<tok::Regex>(s.pattern), s.valid});
  }
}

void PiiScanner::scan(const NormalizedText& text, Findings& out) const {
  std::vector<std::pair<size_t, size_t>> taken;  // normalized spans already reported
  auto overlaps = [&](size_t b, size_t e) {
    return std::any_of(taken.begin(), taken.end(), [&](auto& t) { return b < t.second && t.first < e; });
  };
  for (const Detector& d : detectors_) {
    d.regex->for_each_match(text.text, [&](size_t b, size_t e) {
      if (overlaps(b, e)) return;
      const std::string_view norm = std::string_view(text.text).substr(b, e - b);
      auto [ob, oe] = text.original_range(b, e);
      if (!d.valid(norm, text.original.substr(ob, oe - ob), entropy_bits_)) return;
      taken.emplace_back(b, e);
      Finding f;
      f.stage = "pii";
      f.category = "pii." + d.name;
      f.rule = d.name;
      f.placeholder = d.placeholder;
      f.begin = ob;
      f.end = oe;
      out.push_back(std::move(f));
    });
  }
}

}  // namespace hearth::guard
