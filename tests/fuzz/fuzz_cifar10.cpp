// Fuzz target: the CIFAR-10 binary reader (data/cifar10.h).
//
// Input: the bytes of a data file. It is read twice: as it is (exercising the size checks), and
// cut or zero-padded to a whole number of 3073-byte records (so that every input also reaches
// the record and label checks, which a random size almost never does). Properties: the only
// exception is st::Error with a one-line message; a file that loads has size / 3073 records,
// 3072 pixel bytes each, every label in [0, 10).
#include <cstdint>
#include <string>

#include "data/cifar10.h"
#include "fuzz_common.h"

namespace {

void read_and_check(const std::string& bytes) {
  const std::string& path = st::fuzz::scratch_path("cifar10");
  st::fuzz::write_file(path, bytes.data(), bytes.size());
  try {
    const st::Cifar10 d = st::read_cifar10_files({path});
    const int64_t records = static_cast<int64_t>(bytes.size()) / st::Cifar10::kRecordBytes;
    if (bytes.size() % st::Cifar10::kRecordBytes != 0 || d.size() != records ||
        static_cast<int64_t>(d.pixels.size()) != records * st::Cifar10::kImageBytes)
      st::fuzz::fail("a file of " + std::to_string(bytes.size()) + " bytes loaded as " + std::to_string(d.size()) +
                     " records");
    for (int64_t r = 0; r < d.size(); ++r) {
      if (d.labels[r] < 0 || d.labels[r] >= st::Cifar10::kClasses) st::fuzz::fail("label out of range");
      if (d.labels[r] != static_cast<uint8_t>(bytes[r * st::Cifar10::kRecordBytes])) st::fuzz::fail("wrong label");
    }
  } catch (const st::Error& e) {
    st::fuzz::check_message(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  read_and_check(bytes);
  const size_t record = st::Cifar10::kRecordBytes;
  std::string whole = bytes.substr(0, size / record * record);
  if (whole.empty()) whole = bytes + std::string(record - size % record, '\0');
  read_and_check(whole);
  return 0;
}
