// How `hearth fit` shows its plans to a person: the machine, the catalog as a table of what
// fits (one column per weight type, like the "LLM database" sites), one model in detail.
#pragma once
#include <string>
#include <vector>

#include "fit/hardware.h"
#include "fit/planner.h"

namespace hearth::cli {

struct FitRow {
  std::string model;  // id
  double params_b = 0;
  int64_t context = 0;
  std::vector<fit::Plan> plans;  // one per weight type, in column order
};

void print_machine(const fit::Machine& machine);
// `types`: the column headings, in the order of every row's plans.
void print_fit_table(const std::vector<FitRow>& rows, const std::vector<std::string>& types,
                     size_t hidden_rows);
void print_fit_detail(const fit::ModelShape& model, const std::vector<fit::Plan>& plans);

}  // namespace hearth::cli
