// Errors the server answers with: an HTTP status plus OpenAI's error object
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// so that OpenAI client libraries raise their usual exception types.
#pragma once
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace hearth::server {

class ApiError : public hearth::Error {
 public:
  // param/code: "" becomes JSON null.
  ApiError(int status, std::string message, std::string type, std::string param = {},
           std::string code = {})
      : hearth::Error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // Seconds for a Retry-After header (429, 503); 0: none.
  int retry_after_s() const { return retry_after_s_; }
  ApiError& with_retry_after(int seconds) {
    retry_after_s_ = seconds;
    return *this;
  }

  nlohmann::ordered_json to_json() const;
  // Never throws for odd bytes in the message (they become U+FFFD).
  std::string body() const {
    return to_json().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }

 private:
  int status_;
  std::string type_, param_, code_;
  int retry_after_s_ = 0;
};

// 400 invalid_request_error naming the offending parameter.
template <typename... Args>
[[noreturn]] void bad_param(const std::string& param, fmt::format_string<Args...> f,
                            Args&&... args) {
  throw ApiError(400, fmt::format(f, std::forward<Args>(args)...), "invalid_request_error",
                 param);
}

}  // namespace hearth::server
