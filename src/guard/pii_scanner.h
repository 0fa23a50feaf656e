// Personal data and secrets: e-mail addresses, phone numbers, credit-card numbers (Luhn),
// IBANs (ISO 13616 mod-97), IPv4/IPv6 addresses, API keys with well-known prefixes and
// high-entropy tokens. Candidates come from PCRE2 patterns over the normalized text (so
// full-width digits count); each is then validated, and where two overlap the more specific
// detector wins (an IP address is not also a phone number).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guard/policy.h"
#include "guard/scanner.h"
#include "tokenizer/regex.h"

namespace hearth::guard {

class PiiScanner final : public Scanner {
 public:
  explicit PiiScanner(const PiiPolicy& policy);
  const char* stage() const override { return "pii"; }
  void scan(const NormalizedText& text, Findings& out) const override;

 private:
  struct Detector {
    std::string name;  // "email" ... (its category is "pii.<name>")
    std::string placeholder;
    std::unique_ptr<tok::Regex> regex;
    // Validates a candidate: the normalized span and the original bytes behind it.
    bool (*valid)(std::string_view normalized, std::string_view original, double entropy_bits);
  };
  std::vector<Detector> detectors_;  // most specific first
  double entropy_bits_;
};

// The validators, exposed for the unit tests.
bool luhn_valid(std::string_view digits_and_separators);
bool iban_valid(std::string_view iban);  // spaces allowed, any case
bool ipv4_valid(std::string_view s);
bool ipv6_valid(std::string_view s);
double shannon_bits_per_char(std::string_view s);

}  // namespace hearth::guard
