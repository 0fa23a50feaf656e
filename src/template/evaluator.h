// Executes a parsed template: jinja2's scoping (a for-loop iteration, macro call, set block,
// with or call block gets its own scope; if does not), Undefined semantics, sandboxed
// attribute access, macros with caller(), loop controls and the render limits.
#pragma once
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "template/ast.h"
#include "template/template.h"
#include "template/value.h"

namespace hearth::tmpl {

// What Template::parse produces and every render reads.
struct CompiledTemplate {
  std::string name;
  std::string source;  // normalized (\n newlines), for error positions
  Options options;
  ast::Body body;
};

// Variables of one scope, with a link to the enclosing one.
class Scope {
 public:
  explicit Scope(Scope* parent) : parent_(parent) {}
  const Value* find(std::string_view name) const;
  void set(std::string_view name, Value value);
  Scope* parent() const { return parent_; }
  // A macro defined here closes over this scope (and its ancestors): they must outlive the
  // statement that created them, until the render ends.
  void mark_captured();
  bool captured() const { return captured_; }

 private:
  Scope* parent_;
  bool captured_ = false;
  std::vector<std::pair<std::string, Value>> vars_;
};

enum class Flow { Normal, Break, Continue };

// One render of a template. Builtins (filters, tests, methods, globals) reach the renderer
// through this interface.
class Interpreter {
 public:
  explicit Interpreter(const CompiledTemplate& compiled);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  std::string render(const nlohmann::ordered_json& variables);

  // ---- for builtins ----
  const Options& options() const { return compiled_.options; }
  Value call(const Value& callee, Arguments& args);
  Value apply_filter(std::string_view name, const Value& input, Arguments& args);
  bool apply_test(std::string_view name, const Value& input, Arguments& args);
  // jinja2's sandboxed getattr (obj.name: attribute first, then item) and getitem
  // (obj[key]: item first, then attribute); missing ones give an undefined value.
  Value getattr(const Value& object, std::string_view name);
  Value getitem(const Value& object, const Value& key);
  // Refuses strings, lists or outputs larger than max_output_bytes.
  void check_size(size_t bytes) const;
  // Counts loop iterations against max_loop_iterations.
  void count_iterations(size_t n);
  std::tm now() const;
  // A container received a reference to another container, so it may now be part of a
  // reference cycle; it is emptied when the render ends so that nothing leaks.
  void note_mutation(const Value& container);

  // Used by macro values.
  Value call_macro(const ast::Macro& macro, Scope* closure, Arguments& args);

 private:
  // statements
  Flow exec_body(const ast::Body& body, Scope& scope, std::string& out);
  Flow exec(const ast::Stmt& stmt, Scope& scope, std::string& out);
  Flow exec_for(const ast::For& node, Scope& scope, std::string& out);
  void run_loop(const ast::For& node, std::vector<Value> items, Scope& scope, std::string& out, int depth);
  void exec_call_block(const ast::CallBlock& node, Scope& scope, std::string& out);
  // Runs a body in its own scope, collecting its output in `text`.
  Flow capture(const ast::Body& body, Scope& parent, std::string& text);
  void assign(const ast::Target& target, const Value& value, Scope& scope);
  Value make_macro(const ast::Macro& macro, Scope& scope);
  void append_output(std::string& out, std::string_view text) const;
  void retire(std::unique_ptr<Scope> scope);

  // expressions
  Value eval(const ast::Expr& expr, Scope& scope);
  Value eval_node(const ast::Expr& expr, Scope& scope);
  Value eval_call(const ast::Call& call, Scope& scope);
  Value eval_filter(const ast::Filter& filter, Scope& scope, const Value* block_input);
  Value apply_filter_chain(const ast::Expr& chain, Scope& scope, Value input);
  Arguments eval_args(const ast::CallArgs& args, Scope& scope);
  Value lookup(const std::string& name, Scope& scope);

  [[noreturn]] void rethrow_at(const EvalError& error, uint32_t offset) const;

  const CompiledTemplate& compiled_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
  std::vector<std::unique_ptr<Scope>> retained_scopes_;
  std::vector<Value> mutated_;
  std::unordered_set<const Object*> mutated_ids_;
};

}  // namespace hearth::tmpl
