#pragma once
// CifarDataset: CIFAR-10 records (data/cifar10.h) as a Dataset of [3, 32, 32] normalised images,
// each made by the transform of data/transforms.h (pad + random crop, flip, normalisation) with
// exactly kCropFlipDraws random draws.
#include <memory>

#include "data/cifar10.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace st {

class CifarDataset : public Dataset {
 public:
  // Throws st::Error on a null dataset, a pixel buffer that does not match the labels, or invalid
  // transform options.
  CifarDataset(std::shared_ptr<const Cifar10> records, const ImageTransformOptions& transform);

  int64_t size() const override { return records_->size(); }
  Shape example_shape() const override { return {Cifar10::kChannels, Cifar10::kHeight, Cifar10::kWidth}; }
  uint64_t draws_per_example() const override { return kCropFlipDraws; }
  int64_t get(int64_t index, Generator& gen, real* out) const override;
  int64_t num_classes() const override { return Cifar10::kClasses; }
  std::string describe() const override;

  const Cifar10& records() const { return *records_; }
  const ImageTransformOptions& transform() const { return transform_; }

 private:
  std::shared_ptr<const Cifar10> records_;
  ImageTransformOptions transform_;
};

}  // namespace st
