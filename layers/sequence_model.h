#pragma once
// SequenceModel: a model over token blocks with a recurrent state, the building block a language
// model presents to the training loop. (Layer stays the one-tensor-in, one-tensor-out block.)
//
//   tokens  [rows, steps] ids, row-major: rows are parallel streams (data/token_streams.h)
//   state   the recurrent state carried from one block of the streams to the next: a list of
//           tensors whose shapes the model defines (e.g. h and c of each LSTM layer, [rows, H]);
//           an empty list means the zero state. forward() replaces it with the state after the
//           block's last step, still attached to the graph; the caller detaches it between
//           blocks (truncated back-propagation through time).
//   returns logits [rows · steps, vocabulary], row r · steps + t for stream r at step t.
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "layers/module.h"

namespace st {

class SequenceModel : public Module {
 public:
  virtual Tensor forward(const std::vector<int64_t>& tokens, int64_t rows, int64_t steps,
                         std::vector<Tensor>& state) = 0;
  virtual int64_t vocabulary() const = 0;
  // The Generator the model's dropout draws from; the training loop positions it per batch (at
  // (seed, epoch, batch)), so that a resumed run draws the same masks.
  virtual Generator& dropout_generator() = 0;
};

}  // namespace st
