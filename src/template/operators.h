// Python's arithmetic and comparison operators on template values: int/float promotion,
// floor division and modulo with Python's signs, str and list concatenation and repetition,
// printf-style `str % args`, and Python's TypeError messages for everything else.
#pragma once
#include "template/ast.h"
#include "template/value.h"

namespace hearth::tmpl {

class Interpreter;

// All BinaryOps except And/Or (which short-circuit in the evaluator).
Value binary_op(Interpreter& in, ast::BinaryOp op, const Value& left, const Value& right);
Value unary_op(ast::UnaryOp op, const Value& operand);
bool compare_op(ast::CompareOp op, const Value& left, const Value& right);

// Python's `format % args` for str (%s %r %d %i %f %e %g %x %o %c %% with flags, width,
// precision and %(name)s keys). `escape`: the format is Markup, so text arguments are escaped.
std::string percent_format(Interpreter& in, const std::string& format, const Value& args, bool escape = false);

}  // namespace hearth::tmpl
