// Fuzz target: the checkpoint reader (io/checkpoint.h).
//
// Input: the bytes of a checkpoint file. When the input is long enough, its last 8 bytes are
// replaced by the FNV-1a checksum of the rest, as a crafted file would carry: without this almost
// every mutation would stop at the checksum. Properties: the only exception is st::Error with a
// one-line message; a file that loads holds tensors whose element counts match their shapes and
// whose data (4 bytes per element) fits in the file, with distinct names.
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "fuzz_common.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size >= 16) {
    // FNV-1a 64 (written out here, independently of io/checkpoint.cpp).
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i + 8 < size; ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 1099511628211ull;
    std::memcpy(&bytes[size - 8], &h, 8);
  }
  const std::string& path = st::fuzz::scratch_path("checkpoint");
  st::fuzz::write_file(path, bytes.data(), bytes.size());
  try {
    const st::Checkpoint c = st::load_checkpoint(path);
    uint64_t data_bytes = 0;
    std::set<std::string> names;
    for (const auto& [name, t] : c.tensors) {
      if (t.numel() != st::shape_numel(t.shape())) st::fuzz::fail("tensor '" + name + "': numel does not match its shape");
      data_bytes += 4 * static_cast<uint64_t>(t.numel());
      if (!names.insert(name).second) st::fuzz::fail("tensor '" + name + "' loaded twice");
    }
    if (data_bytes > size) st::fuzz::fail("tensors of " + std::to_string(data_bytes) + " bytes from a file of " +
                                          std::to_string(size));
  } catch (const st::Error& e) {
    st::fuzz::check_message(e);
  }
  return 0;
}
