// The `loop` variable inside a for loop (jinja2's LoopContext) and the macro callables.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "template/ast.h"
#include "template/value.h"

namespace hearth::tmpl {

class Scope;

class LoopState final : public Object {
 public:
  std::vector<Value> items;
  int64_t index0 = 0;
  int64_t depth0 = 0;
  std::optional<Value> last_changed;  // loop.changed(...) remembers the previous arguments
  // For `loop(children)` in a recursive loop; valid while `active`.
  const ast::For* node = nullptr;
  Scope* scope = nullptr;
  bool active = true;

  int64_t length() const { return static_cast<int64_t>(items.size()); }
  // loop.index, loop.first, ... or nullopt for an unknown attribute.
  std::optional<Value> attribute(const std::shared_ptr<LoopState>& self, std::string_view name) const;
};

// A macro (or a call block's caller) with the scope it was defined in.
class MacroCallable final : public Callable {
 public:
  MacroCallable(const ast::Macro& macro, Scope* closure) : macro_(macro), closure_(closure) {}
  Value call(Interpreter& interpreter, Arguments& args) override;
  std::string describe() const override { return "<Macro '" + macro_.name + "'>"; }

 private:
  const ast::Macro& macro_;
  Scope* closure_;
};

}  // namespace hearth::tmpl
