#include "template/evaluator.h"

#include <fmt/format.h>

#include "template/lexer.h"
#include "template/loop.h"

namespace hearth::tmpl {

using namespace ast;

// ---------------------------------------------------------------- Scope

const Value* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_)
    for (const auto& [key, value] : s->vars_)
      if (key == name) return &value;
  return nullptr;
}

void Scope::set(std::string_view name, Value value) {
  for (auto& [key, v] : vars_) {
    if (key == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(value));
}

void Scope::mark_captured() {
  for (Scope* s = this; s && !s->captured_; s = s->parent_) s->captured_ = true;
}

// ---------------------------------------------------------------- loop and macro values

std::optional<Value> LoopState::attribute(const std::shared_ptr<LoopState>& self, std::string_view name) const {
  const int64_t n = length();
  if (name == "index") return Value::integer(index0 + 1);
  if (name == "index0") return Value::integer(index0);
  if (name == "revindex") return Value::integer(n - index0);
  if (name == "revindex0") return Value::integer(n - index0 - 1);
  if (name == "first") return Value::boolean(index0 == 0);
  if (name == "last") return Value::boolean(index0 == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(depth0 + 1);
  if (name == "depth0") return Value::integer(depth0);
  if (name == "previtem")
    return index0 > 0 ? items[static_cast<size_t>(index0 - 1)] : Value::undefined("there is no previous item");
  if (name == "nextitem")
    return index0 + 1 < n ? items[static_cast<size_t>(index0 + 1)] : Value::undefined("there is no next item");
  if (name == "cycle" || name == "changed") {
    class Method final : public Callable {
     public:
      Method(std::shared_ptr<LoopState> loop, bool cycle) : loop_(std::move(loop)), cycle_(cycle) {}
      Value call(Interpreter&, Arguments& args) override {
        if (!args.keyword.empty()) type_error("loop methods take no keyword arguments");
        if (cycle_) {
          if (args.positional.empty()) type_error("no items for cycling given");
          return args.positional[static_cast<size_t>(loop_->index0) % args.positional.size()];
        }
        Value current = Value::tuple(args.positional);
        if (loop_->last_changed && equals(*loop_->last_changed, current)) return Value::boolean(false);
        loop_->last_changed = std::move(current);
        return Value::boolean(true);
      }
      std::string describe() const override { return cycle_ ? "<bound method cycle>" : "<bound method changed>"; }

     private:
      std::shared_ptr<LoopState> loop_;
      bool cycle_;
    };
    return Value::callable(std::make_shared<Method>(self, name == "cycle"));
  }
  return std::nullopt;
}

Value MacroCallable::call(Interpreter& interpreter, Arguments& args) {
  return interpreter.call_macro(macro_, closure_, args);
}

// ---------------------------------------------------------------- render

Interpreter::Interpreter(const CompiledTemplate& compiled) : compiled_(compiled) {}

Interpreter::~Interpreter() {
  // Break reference cycles that mutation may have made (a namespace holding itself ...).
  for (Value& v : mutated_) {
    if (v.kind() == Kind::Dict || v.kind() == Kind::Namespace) v.dict_object().clear();
    else if (v.kind() == Kind::List) v.items().clear();
  }
}

std::string Interpreter::render(const nlohmann::ordered_json& variables) {
  if (!variables.is_object() && !variables.is_null())
    throw TemplateError(ErrorKind::Type, "template variables must be a JSON object (name -> value)",
                        compiled_.name, 0, 0);
  Scope globals(nullptr);
  if (variables.is_object()) {
    for (const auto& [name, value] : variables.items()) {
      try {
        globals.set(name, from_json(value));
      } catch (const EvalError& e) {
        throw TemplateError(e.kind, fmt::format("variable '{}': {}", name, e.message), compiled_.name, 0, 0);
      }
    }
  }
  // Value operations may do ~100 element operations per allowed loop iteration.
  const int64_t work = options().max_loop_iterations > INT64_MAX / 100 ? INT64_MAX : options().max_loop_iterations * 100;
  RenderBudget budget(std::max<int64_t>(work, 100'000), options().max_output_bytes);
  std::string out;
  exec_body(compiled_.body, globals, out);
  return out;
}

void Interpreter::rethrow_at(const EvalError& error, uint32_t offset) const {
  const SourceLocation loc = locate(compiled_.source, offset);
  if (error.kind == ErrorKind::Raised) throw RaisedError(error.message, compiled_.name, loc.line, loc.column);
  throw TemplateError(error.kind, error.message, compiled_.name, loc.line, loc.column);
}

void Interpreter::check_size(size_t bytes) const { RenderBudget::check_text(bytes); }

void Interpreter::count_iterations(size_t n) {
  iterations_ += static_cast<int64_t>(n);
  if (iterations_ > options().max_loop_iterations)
    throw_error(ErrorKind::Limit, fmt::format("more than {} loop iterations (Options::max_loop_iterations)",
                                              options().max_loop_iterations));
}

std::tm Interpreter::now() const {
  if (options().now) return options().now();
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  return local;
}

void Interpreter::note_mutation(const Value& container) {
  if (mutated_ids_.insert(container.identity()).second) mutated_.push_back(container);
}

void Interpreter::append_output(std::string& out, std::string_view text) const {
  check_size(out.size() + text.size());
  out += text;
}

void Interpreter::retire(std::unique_ptr<Scope> scope) {
  if (scope->captured()) retained_scopes_.push_back(std::move(scope));
}

// ---------------------------------------------------------------- statements

Flow Interpreter::exec_body(const Body& body, Scope& scope, std::string& out) {
  for (const StmtPtr& stmt : body) {
    const Flow flow = exec(*stmt, scope, out);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Flow Interpreter::exec(const Stmt& stmt, Scope& scope, std::string& out) {
  try {
    switch (stmt.kind) {
      case StmtKind::Output:
        append_output(out, static_cast<const Output&>(stmt).text);
        return Flow::Normal;
      case StmtKind::Print: {
        const Value v = eval(*static_cast<const Print&>(stmt).expr, scope);
        if (v.is_string()) {
          append_output(out, v.text());
        } else {
          std::string text;
          append_str(text, v);
          append_output(out, text);
        }
        return Flow::Normal;
      }
      case StmtKind::If: {
        const auto& node = static_cast<const If&>(stmt);
        for (const auto& [test, body] : node.branches)
          if (truthy(eval(*test, scope))) return exec_body(body, scope, out);
        return exec_body(node.otherwise, scope, out);
      }
      case StmtKind::For: return exec_for(static_cast<const For&>(stmt), scope, out);
      case StmtKind::Set: {
        const auto& node = static_cast<const Set&>(stmt);
        assign(node.target, eval(*node.value, scope), scope);
        return Flow::Normal;
      }
      case StmtKind::SetBlock: {
        const auto& node = static_cast<const SetBlock&>(stmt);
        std::string captured;
        // A break/continue inside the block leaves the loop before anything is assigned.
        if (const Flow flow = capture(node.body, scope, captured); flow != Flow::Normal) return flow;
        Value text = Value::string(std::move(captured));
        if (node.filter) text = apply_filter_chain(*node.filter, scope, std::move(text));
        assign(node.target, text, scope);
        return Flow::Normal;
      }
      case StmtKind::Macro: {
        const auto& node = static_cast<const Macro&>(stmt);
        scope.set(node.name, make_macro(node, scope));
        return Flow::Normal;
      }
      case StmtKind::CallBlock: exec_call_block(static_cast<const CallBlock&>(stmt), scope, out); return Flow::Normal;
      case StmtKind::FilterBlock: {
        const auto& node = static_cast<const FilterBlock&>(stmt);
        std::string captured;
        if (const Flow flow = capture(node.body, scope, captured); flow != Flow::Normal) return flow;
        const Value result = apply_filter_chain(*node.filter, scope, Value::string(std::move(captured)));
        append_output(out, to_str(result));
        return Flow::Normal;
      }
      case StmtKind::With: {
        const auto& node = static_cast<const With&>(stmt);
        auto inner = std::make_unique<Scope>(&scope);
        for (const auto& [target, value] : node.assignments) assign(target, eval(*value, scope), *inner);
        const Flow flow = exec_body(node.body, *inner, out);
        retire(std::move(inner));
        return flow;
      }
      case StmtKind::Scoped: {
        auto inner = std::make_unique<Scope>(&scope);
        const Flow flow = exec_body(static_cast<const Scoped&>(stmt).body, *inner, out);
        retire(std::move(inner));
        return flow;
      }
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
    }
  } catch (const EvalError& e) {
    rethrow_at(e, stmt.offset);
  }
  return Flow::Normal;
}

Flow Interpreter::capture(const Body& body, Scope& parent, std::string& text) {
  auto inner = std::make_unique<Scope>(&parent);
  const Flow flow = exec_body(body, *inner, text);
  retire(std::move(inner));
  return flow;
}

Flow Interpreter::exec_for(const For& node, Scope& scope, std::string& out) {
  Value iterable = eval(*node.iterable, scope);
  run_loop(node, iterate(iterable), scope, out, 0);
  return Flow::Normal;
}

void Interpreter::run_loop(const For& node, std::vector<Value> items, Scope& scope, std::string& out, int depth) {
  if (node.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      count_iterations(1);
      Scope probe(&scope);
      assign(node.target, item, probe);
      if (truthy(eval(*node.filter, probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    auto inner = std::make_unique<Scope>(&scope);
    exec_body(node.otherwise, *inner, out);
    retire(std::move(inner));
    return;
  }
  auto state = std::make_shared<LoopState>();
  state->items = std::move(items);
  state->depth0 = depth;
  state->node = &node;
  state->scope = &scope;
  const Value loop = Value::object(Kind::Loop, state);
  struct Deactivate {
    ~Deactivate() { state->active = false; }
    LoopState* state;
  } deactivate{state.get()};
  for (size_t i = 0; i < state->items.size(); ++i) {
    count_iterations(1);
    state->index0 = static_cast<int64_t>(i);
    auto inner = std::make_unique<Scope>(&scope);
    assign(node.target, state->items[i], *inner);
    inner->set("loop", loop);
    const Flow flow = exec_body(node.body, *inner, out);
    retire(std::move(inner));
    if (flow == Flow::Break) break;
  }
}

void Interpreter::exec_call_block(const CallBlock& node, Scope& scope, std::string& out) {
  const auto& call = static_cast<const Call&>(*node.call);
  const Value callee = eval(*call.callee, scope);
  Arguments args = eval_args(call.args, scope);
  args.keyword.emplace_back("caller", make_macro(node.caller, scope));
  Value result;
  try {
    result = this->call(callee, args);
  } catch (const EvalError& e) {
    rethrow_at(e, call.offset);
  }
  std::string text;
  append_str(text, result);
  append_output(out, text);
}

Value Interpreter::make_macro(const Macro& macro, Scope& scope) {
  scope.mark_captured();
  return Value::callable(std::make_shared<MacroCallable>(macro, &scope));
}

void Interpreter::assign(const Target& target, const Value& value, Scope& scope) {
  switch (target.kind) {
    case Target::Kind::Name: scope.set(target.name, value); return;
    case Target::Kind::Attribute: {
      const Value* ns = scope.find(target.name);
      if (!ns || !ns->is_namespace())
        throw_error(ErrorKind::Runtime, "cannot assign attribute on non-namespace object");
      ns->dict_object().set(target.attribute, value);
      switch (value.kind()) {
        case Kind::List:
        case Kind::Tuple:
        case Kind::Iterator:
        case Kind::Dict:
        case Kind::Namespace:
        case Kind::Loop: note_mutation(*ns); break;
        default: break;
      }
      return;
    }
    case Target::Kind::Tuple: {
      if (!value.is_sequence_like() && value.kind() != Kind::Iterator && !value.is_dict() && !value.is_string() &&
          !value.is_undefined())
        type_error(fmt::format("cannot unpack non-iterable {} object", type_name(value)));
      const std::vector<Value> items = iterate(value);
      const size_t n = target.items.size();
      if (items.size() < n)
        value_error(fmt::format("not enough values to unpack (expected {}, got {})", n, items.size()));
      if (items.size() > n) value_error(fmt::format("too many values to unpack (expected {})", n));
      for (size_t i = 0; i < n; ++i) assign(target.items[i], items[i], scope);
      return;
    }
  }
}

Value Interpreter::call_macro(const Macro& macro, Scope* closure, Arguments& args) {
  if (call_depth_ >= options().max_recursion)
    throw_error(ErrorKind::Limit, fmt::format("more than {} nested macro calls (Options::max_recursion)",
                                              options().max_recursion));
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    int& depth;
  } guard(call_depth_);

  auto scope = std::make_unique<Scope>(closure);
  const size_t n = macro.params.size();
  std::vector<bool> bound(n, false);
  std::vector<Value> extra_positional;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < n) {
      scope->set(macro.params[i].name, args.positional[i]);
      bound[i] = true;
    } else {
      extra_positional.push_back(args.positional[i]);
    }
  }
  if (!extra_positional.empty() && !macro.uses_varargs)
    type_error(fmt::format("macro '{}' takes not more than {} argument(s)", macro.name, n));
  auto extra_keywords = std::make_shared<DictObject>();
  Value caller = Value::undefined("No caller defined");
  for (auto& [key, value] : args.keyword) {
    size_t j = 0;
    while (j < n && (macro.params[j].name != key || bound[j])) ++j;
    if (j < n) {
      scope->set(key, value);
      bound[j] = true;
    } else if (key == "caller" && macro.uses_caller) {
      caller = value;
    } else if (macro.uses_kwargs) {
      extra_keywords->set(key, value);
    } else {
      type_error(fmt::format("macro '{}' takes no keyword argument '{}'", macro.name, key));
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (bound[j]) continue;
    const Parameter& p = macro.params[j];
    scope->set(p.name, p.default_value ? eval(*p.default_value, *scope)
                                       : Value::undefined(fmt::format("parameter '{}' was not provided", p.name)));
  }
  if (macro.uses_varargs) scope->set("varargs", Value::tuple(std::move(extra_positional)));
  if (macro.uses_kwargs) scope->set("kwargs", Value::dict(std::move(extra_keywords)));
  if (macro.uses_caller) scope->set("caller", caller);
  std::string out;
  exec_body(macro.body, *scope, out);
  retire(std::move(scope));
  return Value::string(std::move(out));
}

}  // namespace hearth::tmpl
