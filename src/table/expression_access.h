#pragma once

#include <memory>
#include <utility>

#include "table/expression.h"
#include "table/expression_ast.h"

namespace salespipe::table::expr {

// Builds the public expression objects from checked trees, and reads the trees back.
// For the parser and the legacy converters only.
struct Access {
  static Condition MakeCondition(ConditionNode root) {
    Condition condition;
    condition.root_ = std::make_shared<const ConditionNode>(std::move(root));
    return condition;
  }
  static const ConditionNode* Root(const Condition& condition) { return condition.root_.get(); }

  static Update MakeUpdate(UpdateProgram program) {
    Update update;
    update.program_ = std::make_shared<const UpdateProgram>(std::move(program));
    return update;
  }

  static Projection MakeProjection(ProjectionProgram program) {
    Projection projection;
    projection.program_ = std::make_shared<const ProjectionProgram>(std::move(program));
    return projection;
  }
};

}  // namespace salespipe::table::expr
