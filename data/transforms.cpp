#include "data/transforms.h"

#include <algorithm>

#include "core/error.h"

namespace st {

void ImageTransformOptions::validate() const {
  ST_CHECK(pad_crop >= 0, "transform: pad_crop must be >= 0, got " << pad_crop);
  for (int c = 0; c < 3; ++c)
    ST_CHECK(stddev[c] > 0, "transform: stddev[" << c << "] must be positive, got " << stddev[c]);
}

CropFlip center_crop_flip(const ImageTransformOptions& options) {
  return {options.pad_crop, options.pad_crop, false};
}

CropFlip draw_crop_flip(const ImageTransformOptions& options, Generator& gen) {
  const int64_t span = 2 * options.pad_crop + 1;
  CropFlip choice;
  choice.dy = gen.randint(span);  // randint(1) == 0 when cropping is off: the centre
  choice.dx = gen.randint(span);
  const bool coin = gen.uniform() < 0.5;
  choice.flip = options.horizontal_flip && coin;
  return choice;
}

void transform_image(const uint8_t* src, int64_t channels, int64_t height, int64_t width,
                     const ImageTransformOptions& options, const CropFlip& choice, real* dst) {
  const int64_t pad = options.pad_crop;
  ST_CHECK(channels >= 1 && channels <= 3, "transform: expected 1..3 channels, got " << channels);
  ST_CHECK(choice.dy >= 0 && choice.dy <= 2 * pad && choice.dx >= 0 && choice.dx <= 2 * pad,
           "transform: crop offset (" << choice.dy << ", " << choice.dx << ") outside [0, " << 2 * pad
                                      << "] for pad_crop " << pad);
  // Shift from destination to source coordinates: sy = y + oy, sx = x' + ox (x' flipped or not).
  const int64_t oy = choice.dy - pad, ox = choice.dx - pad;
  // Destination columns whose source column lies inside the image, [x_lo, x_hi). Unflipped:
  // sx = x + ox; flipped: sx = width-1-x + ox. Both give the same interval of x.
  const int64_t x_lo = std::clamp<int64_t>(choice.flip ? ox : -ox, 0, width);
  const int64_t x_hi = std::clamp<int64_t>(choice.flip ? width + ox : width - ox, 0, width);
  for (int64_t c = 0; c < channels; ++c) {
    const float mean = options.mean[c], stddev = options.stddev[c];
    const real pad_value = static_cast<real>((0.0f - mean) / stddev);
    const uint8_t* plane = src + c * height * width;   // [height, width]
    real* out_plane = dst + c * height * width;        // [height, width]
    for (int64_t y = 0; y < height; ++y) {
      real* out = out_plane + y * width;
      const int64_t sy = y + oy;
      if (sy < 0 || sy >= height) {
        std::fill(out, out + width, pad_value);
        continue;
      }
      const uint8_t* row = plane + sy * width;
      std::fill(out, out + x_lo, pad_value);
      if (choice.flip) {
        const int64_t last = width - 1 + ox;  // source column of x = 0; walk backwards
        for (int64_t x = x_lo; x < x_hi; ++x)
          out[x] = static_cast<real>((static_cast<float>(row[last - x]) - mean) / stddev);
      } else {
        for (int64_t x = x_lo; x < x_hi; ++x)
          out[x] = static_cast<real>((static_cast<float>(row[x + ox]) - mean) / stddev);
      }
      std::fill(out + std::max(x_hi, x_lo), out + width, pad_value);
    }
  }
}

}  // namespace st
