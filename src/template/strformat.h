// Python's str.format() and format(value, spec) for template values: replacement fields
// ({}, {0}, {name}, {name.attr}, {name[key]}), !s/!r conversions and the format-spec
// mini-language (fill, align, sign, #, 0, width, grouping, precision, type).
#pragma once
#include <string>
#include <string_view>

#include "template/value.h"

namespace hearth::tmpl {

class Interpreter;

std::string str_format(Interpreter& in, const std::string& format, const Arguments& args);
std::string format_value(const Value& value, std::string_view spec);

}  // namespace hearth::tmpl
