// Global functions: jinja2's range (sandbox-limited), dict, namespace, joiner, and the ones
// transformers adds: raise_exception(msg) and strftime_now(format).
#include <fmt/format.h>

#include <ctime>
#include <unordered_map>

#include "template/builtins_internal.h"

namespace hearth::tmpl {

namespace {

using builtin::int_arg;

using GlobalFn = Value (*)(Interpreter&, Arguments&);

class Builtin final : public Callable {
 public:
  Builtin(std::string name, GlobalFn fn) : name_(std::move(name)), fn_(fn) {}
  Value call(Interpreter& in, Arguments& args) override { return fn_(in, args); }
  std::string describe() const override { return fmt::format("<built-in function {}>", name_); }

 private:
  std::string name_;
  GlobalFn fn_;
};

// jinja2's sandbox caps ranges at MAX_RANGE items.
constexpr int64_t kMaxRange = 100000;

Value g_range(Interpreter&, Arguments& a) {
  if (!a.keyword.empty()) type_error("range() takes no keyword arguments");
  if (a.positional.empty() || a.positional.size() > 3)
    type_error(fmt::format("range expected at most 3 arguments, got {}", a.positional.size()));
  std::vector<int64_t> n;
  for (const Value& v : a.positional) {
    if (!v.is_integral())
      type_error(fmt::format("'{}' object cannot be interpreted as an integer", type_name(v)));
    n.push_back(v.as_int());
  }
  const int64_t start = n.size() == 1 ? 0 : n[0];
  const int64_t stop = n.size() == 1 ? n[0] : n[1];
  const int64_t step = n.size() == 3 ? n[2] : 1;
  if (step == 0) value_error("range() arg 3 must not be zero");
  __int128 count = 0;
  if (step > 0 && stop > start) count = (static_cast<__int128>(stop) - start + step - 1) / step;
  if (step < 0 && stop < start) count = (static_cast<__int128>(start) - stop - step - 1) / -step;
  if (count > kMaxRange)
    throw_error(ErrorKind::Limit,
                fmt::format("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) items.push_back(Value::integer(start + i * step));
  return Value::list(std::move(items));
}

// dict(mapping or pairs, **kwargs) and namespace(...) take the same arguments.
std::shared_ptr<DictObject> dict_from(Arguments& a, const char* name) {
  auto d = std::make_shared<DictObject>();
  if (a.positional.size() > 1) type_error(fmt::format("{} expected at most 1 argument, got {}", name, a.positional.size()));
  if (!a.positional.empty()) {
    const Value& source = a.positional[0];
    if (source.is_dict() || source.is_namespace()) {
      for (const auto& [k, v] : source.dict_object().entries()) d->set(k, v);
    } else {
      for (const Value& pair : iterate(source)) {
        const std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) value_error("dictionary update sequence element has the wrong length; 2 is required");
        d->set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : a.keyword) d->set(k, v);
  return d;
}

Value g_dict(Interpreter&, Arguments& a) { return Value::dict(dict_from(a, "dict")); }
Value g_namespace(Interpreter&, Arguments& a) { return Value::namespace_(dict_from(a, "namespace")); }

Value g_joiner(Interpreter&, Arguments& a) {
  ArgReader r("joiner", a);
  const std::string sep = to_str(r.next_or("sep", Value::string(", ")));
  r.finish();
  class Joiner final : public Callable {
   public:
    explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
    Value call(Interpreter&, Arguments& args) override {
      ArgReader("joiner", args).finish();
      if (!used_) {
        used_ = true;
        return Value::string("");
      }
      return Value::string(sep_);
    }
    std::string describe() const override { return "<jinja2.utils.Joiner object>"; }

   private:
    std::string sep_;
    bool used_ = false;
  };
  return Value::callable(std::make_shared<Joiner>(sep));
}

// transformers: raise_exception(message) raises jinja2.TemplateError(message).
Value g_raise_exception(Interpreter&, Arguments& a) {
  ArgReader r("raise_exception", a);
  const Value message = r.required("message");
  r.finish();
  throw_error(ErrorKind::Raised, to_str(message));
}

// transformers: strftime_now(format) == datetime.now().strftime(format).
Value g_strftime_now(Interpreter& in, Arguments& a) {
  ArgReader r("strftime_now", a);
  const Value format = r.required("format");
  r.finish();
  if (!format.is_string()) type_error(fmt::format("strftime() argument 1 must be str, not {}", type_name(format)));
  const std::tm now = in.now();
  const std::string spec = format.text() + "\x01";  // a sentinel: an empty result is then not a failure
  std::vector<char> buffer(256);
  while (true) {
    const size_t n = std::strftime(buffer.data(), buffer.size(), spec.c_str(), &now);
    if (n > 0) return Value::string(std::string(buffer.data(), n - 1));
    if (buffer.size() > (1u << 20)) value_error("strftime result too long");
    buffer.resize(buffer.size() * 4);
  }
}

template <const char* Name>
Value g_unsupported(Interpreter&, Arguments&) {
  throw_error(ErrorKind::Runtime, fmt::format("the global function '{}' is not supported by this template engine", Name));
}
constexpr char kCycler[] = "cycler", kLipsum[] = "lipsum";

}  // namespace

std::optional<Value> find_global(std::string_view name) {
  static const std::unordered_map<std::string_view, Value> kGlobals = [] {
    std::unordered_map<std::string_view, Value> m;
    auto add = [&](const char* n, GlobalFn fn) { m.emplace(n, Value::callable(std::make_shared<Builtin>(n, fn))); };
    add("range", g_range);
    add("dict", g_dict);
    add("namespace", g_namespace);
    add("joiner", g_joiner);
    add("raise_exception", g_raise_exception);
    add("strftime_now", g_strftime_now);
    add("cycler", g_unsupported<kCycler>);
    add("lipsum", g_unsupported<kLipsum>);
    return m;
  }();
  if (auto it = kGlobals.find(name); it != kGlobals.end()) return it->second;
  return std::nullopt;
}

}  // namespace hearth::tmpl
