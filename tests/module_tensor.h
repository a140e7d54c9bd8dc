#pragma once
// Test helper: a module's parameter or buffer by its dotted name (as in checkpoints), failing the
// test when there is none.
#include <catch2/catch.hpp>

#include <string>

#include "layers/module.h"

namespace st::test {

inline Tensor module_tensor(Module& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  for (auto& [n, t] : m.named_buffers())
    if (n == name) return t;
  FAIL("no parameter or buffer " << name);
  return Tensor();
}

}  // namespace st::test
