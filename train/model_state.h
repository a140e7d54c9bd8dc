#pragma once
// Module <-> checkpoint: parameters and buffers under their dotted names.
#include "io/checkpoint.h"
#include "layers/module.h"

namespace st {

// Appends every parameter and buffer of `model` (names as in named_parameters/named_buffers).
void append_model_state(const Module& model, Checkpoint* ckpt);
// Copies the checkpoint's values into the module's tensors. Throws st::Error naming the key and
// the file for a missing tensor or a shape mismatch (both shapes in the message).
void load_model_state(const Checkpoint& ckpt, Module& model);
// As load_model_state, and the checkpoint must hold nothing else but optimiser state
// ("optim."-prefixed tensors): a tensor the model does not have means a checkpoint of another
// model, an error naming the tensor (for eval and --resume).
void load_model_state_exact(const Checkpoint& ckpt, Module& model);
// Non-strict variant for initialising from another run: loads the tensors the checkpoint has
// (a shape mismatch is still an error), returns the names of the model tensors it lacked.
std::vector<std::string> load_model_state_present(const Checkpoint& ckpt, Module& model);
// The name of the first parameter or buffer holding a NaN or an infinity; empty when all are finite.
std::string first_non_finite(const Module& model);
// The fingerprint of a model's weights and buffers (see tensors_checksum), as "0x%016x".
std::string model_checksum(const Module& model);

}  // namespace st
