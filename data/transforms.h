#pragma once
// Image transforms for training: zero-pad + random crop, random horizontal flip, per-channel
// normalisation. They turn one raw CHW uint8 image into CHW floats, the CIFAR-10 recipe of
// docs (strassennets.md §4) being
//
//   ImageTransformOptions{.pad_crop = 4, .horizontal_flip = true}   (training)
//   ImageTransformOptions{}                                          (evaluation: normalise only)
//
// Semantics match torchvision's RandomCrop(32, padding=4) -> RandomHorizontalFlip -> ToTensor ->
// Normalize(mean/255, std/255): the image is padded with raw 0, a window of the original size is
// taken at offset (dy, dx) in [0, 2*pad]^2 of the padded image, optionally mirrored left-right,
// and every value v (0..255, padding included) becomes (v - mean[c]) / stddev[c]. So a padded pixel
// of channel c is -mean[c] / stddev[c], not 0.
//
// The random choices are made apart from the pixel work: draw_crop_flip() takes them from a
// Generator, transform_image() applies given ones. The loader (data/loader.h) keys the Generator
// by (seed, epoch, position in epoch), which makes every augmented batch reproducible.
#include <array>
#include <cstdint>

#include "core/real.h"
#include "core/rng.h"

namespace st {

struct ImageTransformOptions {
  int64_t pad_crop = 0;          // 0 = off; p > 0: pad p pixels of 0 on each side, random crop back
  bool horizontal_flip = false;  // mirror left-right with probability 1/2
  // Per-channel normalisation in 0..255 pixel units (defaults: the CIFAR-10 statistics).
  std::array<float, 3> mean{125.3f, 123.0f, 113.9f};
  std::array<float, 3> stddev{63.0f, 62.1f, 66.7f};

  // Throws st::Error when pad_crop < 0 or a stddev is not positive.
  void validate() const;
};

// The random part of one sample's transform.
struct CropFlip {
  int64_t dy = 0, dx = 0;  // window offset in the padded image, each in [0, 2 * pad_crop]
  bool flip = false;       // mirror left-right after cropping
};

// The identity choice for `options`: the centred window (dy = dx = pad_crop), no flip.
CropFlip center_crop_flip(const ImageTransformOptions& options);

// Draws dy, dx uniform in [0, 2 * pad_crop] and flip with probability 1/2 (false unless
// horizontal_flip). Always takes exactly kCropFlipDraws values from `gen`, whatever the options.
inline constexpr uint64_t kCropFlipDraws = 3;
CropFlip draw_crop_flip(const ImageTransformOptions& options, Generator& gen);

// src: one image, [channels, height, width] uint8, row-major. dst: [channels, height, width] real.
// dst[c][y][x] = norm_c(padded[c][y + dy][x' + dx]) with x' = width-1-x when flipping, else x,
// where padded[c][i][j] = src[c][i - pad][j - pad] inside the image and 0 outside.
// Requires channels <= 3 (one mean/stddev per channel) and 0 <= dy, dx <= 2 * pad_crop.
void transform_image(const uint8_t* src, int64_t channels, int64_t height, int64_t width,
                     const ImageTransformOptions& options, const CropFlip& choice, real* dst);

}  // namespace st
