#include "server/api_error.h"

namespace hearth::server {

nlohmann::ordered_json ApiError::to_json() const {
  auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
  };
  nlohmann::ordered_json error;
  error["message"] = what();
  error["type"] = type_;
  error["param"] = or_null(param_);
  error["code"] = or_null(code_);
  nlohmann::ordered_json body;
  body["error"] = std::move(error);
  return body;
}

}  // namespace hearth::server
