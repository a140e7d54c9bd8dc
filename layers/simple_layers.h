#pragma once
// Parameter-free layers: activations, pooling, flatten, dropout.
#include "core/ops/pool.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace st {

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ReLU"; }
};

class Tanh : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Tanh"; }
};

class Sigmoid : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sigmoid"; }
};

// [N, C, H, W] -> [N, C*H*W] (merges every axis after the first).
class Flatten : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Flatten"; }
};

class MaxPool2d : public Layer {
 public:
  explicit MaxPool2d(const Pool2dOptions& opt) : opt_(opt) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Pool2dOptions opt_;
};

class AvgPool2d : public Layer {
 public:
  explicit AvgPool2d(const Pool2dOptions& opt) : opt_(opt) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Pool2dOptions opt_;
};

// [N, C, H, W] -> [N, C].
class GlobalAvgPool2d : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "GlobalAvgPool2d"; }
};

// Inverted dropout with probability p in training mode; identity in evaluation mode. Masks are
// drawn from `gen`, which must outlive the layer (a model's generator, saved in checkpoints).
class Dropout : public Layer {
 public:
  Dropout(real p, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  real p_;
  Generator* gen_;
};

}  // namespace st
