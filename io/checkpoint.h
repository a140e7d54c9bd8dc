#pragma once
// Checkpoint files: named float tensors plus named text entries (epoch, RNG state, the resolved
// config, ...), in a small binary format:
//
//   "STCKPT\0\1"  magic (8 bytes: name, then format version 1)
//   u64 n_tensors, then per tensor: u32 name length, name bytes, u32 ndim, i64 dims[ndim],
//                                    f32 values[numel] (little-endian, row-major)
//   u64 n_texts,   then per entry:  u32 key length, key, u64 value length, value
//   u64 checksum   FNV-1a 64 of every byte before it
//
// save_checkpoint writes to "<path>.tmp", flushes and fsyncs it, then renames it over <path>:
// a reader sees the old file or the new one, never a torn one, even after kill -9.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace st {

struct Checkpoint {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> texts;

  // Lookup helpers: throw st::Error naming the key (and the file, when known) when missing.
  const Tensor& tensor(const std::string& name) const;
  const std::string& text(const std::string& key) const;
  bool has_tensor(const std::string& name) const;
  std::string source;  // the file it was read from, for messages
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Throws st::Error naming the file for a missing file (or a directory), bad magic, unsupported
// version, truncated data, a checksum mismatch, a tensor or entry that appears twice, or a size
// that does not fit in the bytes left in the file (checked before anything is allocated; the
// checksum is no defence against a crafted file). tests/fuzz/fuzz_checkpoint.cpp fuzzes it.
Checkpoint load_checkpoint(const std::string& path);

// FNV-1a 64 over the float bytes of the tensors, in order: the weights' fingerprint that
// `strassen train` prints, to compare runs.
uint64_t tensors_checksum(const std::vector<std::pair<std::string, Tensor>>& tensors);

}  // namespace st
