#pragma once
// Every differentiable op of the engine. Each header documents its ops' shapes.
#include "core/ops/conv.h"
#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/embedding.h"
#include "core/ops/linalg.h"
#include "core/ops/loss.h"
#include "core/ops/lstm.h"
#include "core/ops/norm.h"
#include "core/ops/pool.h"
#include "core/ops/quantize.h"
#include "core/ops/reduce.h"
#include "core/ops/shape_ops.h"
