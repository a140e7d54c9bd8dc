#include "data/cifar10.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace st {

Cifar10 read_cifar10_files(const std::vector<std::string>& paths) {
  ST_CHECK(!paths.empty(), "cifar10: no files given");
  Cifar10 data;
  std::vector<uint8_t> record(Cifar10::kRecordBytes);
  namespace fs = std::filesystem;
  for (const std::string& path : paths) {
    // The kind of file first: an ifstream opens a directory, and its tellg() then reports
    // 9223372036854775807 bytes.
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    ST_CHECK(status.type() != fs::file_type::not_found, "cifar10: cannot open '" << path << "': no such file");
    ST_CHECK(!ec, "cifar10: cannot open '" << path << "': " << ec.message());
    ST_CHECK(!fs::is_directory(status), "cifar10: '" << path << "': it is a directory, not a CIFAR-10 binary file");
    ST_CHECK(fs::is_regular_file(status), "cifar10: '" << path << "': not a regular file");
    std::ifstream in(path, std::ios::binary);
    ST_CHECK(in, "cifar10: cannot open '" << path << "'");
    const uintmax_t size = fs::file_size(path, ec);
    ST_CHECK(!ec, "cifar10: cannot read the size of '" << path << "': " << ec.message());
    const int64_t bytes = static_cast<int64_t>(size);
    ST_CHECK(bytes > 0 && bytes % Cifar10::kRecordBytes == 0,
             "cifar10: '" << path << "' has " << bytes << " bytes, not a whole number of " << Cifar10::kRecordBytes
                          << "-byte records (truncated or not a CIFAR-10 binary file)");
    in.seekg(0);
    const int64_t records = bytes / Cifar10::kRecordBytes;
    const size_t base = data.pixels.size();
    data.pixels.resize(base + records * Cifar10::kImageBytes);
    for (int64_t r = 0; r < records; ++r) {
      in.read(reinterpret_cast<char*>(record.data()), Cifar10::kRecordBytes);
      ST_CHECK(in, "cifar10: read error in '" << path << "' at record " << r);
      ST_CHECK(record[0] < Cifar10::kClasses,
               "cifar10: '" << path << "' record " << r << " has label " << int(record[0]) << " (must be 0..9)");
      data.labels.push_back(record[0]);
      std::copy(record.begin() + 1, record.end(), data.pixels.begin() + base + r * Cifar10::kImageBytes);
    }
  }
  return data;
}

std::vector<std::string> cifar10_split_files(const std::string& directory, const std::string& split) {
  namespace fs = std::filesystem;
  // error_code overloads throughout: the throwing ones report a permission error as a
  // filesystem_error that does not say which key the path came from.
  std::error_code ec;
  const fs::file_status status = fs::status(directory, ec);
  ST_CHECK(status.type() != fs::file_type::not_found, "cifar10: data directory '" << directory << "' does not exist");
  ST_CHECK(!ec, "cifar10: cannot open data directory '" << directory << "': " << ec.message());
  ST_CHECK(fs::is_directory(status), "cifar10: data directory '" << directory << "' is not a directory");
  std::vector<std::string> files;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i) {
      const fs::path p = fs::path(directory) / ("data_batch_" + std::to_string(i) + ".bin");
      if (fs::exists(p, ec)) files.push_back(p.string());
    }
  } else if (split == "test") {
    const fs::path p = fs::path(directory) / "test_batch.bin";
    if (fs::exists(p, ec)) files.push_back(p.string());
  } else {
    ST_THROW("cifar10: unknown split '" << printable(split) << "' (expected \"train\" or \"test\")");
  }
  ST_CHECK(!files.empty(), "cifar10: no " << split << " files (" << (split == "train" ? "data_batch_*.bin" : "test_batch.bin")
                                          << ") in '" << directory << "'");
  return files;
}

}  // namespace st
