#include "data/cifar_dataset.h"

#include "core/error.h"

namespace st {

CifarDataset::CifarDataset(std::shared_ptr<const Cifar10> records, const ImageTransformOptions& transform)
    : records_(std::move(records)), transform_(transform) {
  ST_CHECK(records_ != nullptr, "cifar10 dataset: null records");
  const int64_t n = records_->size();
  ST_CHECK(static_cast<int64_t>(records_->pixels.size()) == n * Cifar10::kImageBytes,
           "cifar10 dataset: " << n << " labels but " << records_->pixels.size() << " pixel bytes (expected "
                               << n * Cifar10::kImageBytes << ")");
  transform_.validate();
}

int64_t CifarDataset::get(int64_t index, Generator& gen, real* out) const {
  ST_CHECK(index >= 0 && index < size(), "cifar10 dataset: example " << index << " outside [0, " << size() << ")");
  const CropFlip choice = draw_crop_flip(transform_, gen);
  transform_image(records_->pixels.data() + index * Cifar10::kImageBytes, Cifar10::kChannels, Cifar10::kHeight,
                  Cifar10::kWidth, transform_, choice, out);
  return records_->labels[index];
}

std::string CifarDataset::describe() const { return "cifar10 (" + std::to_string(size()) + " images)"; }

}  // namespace st
