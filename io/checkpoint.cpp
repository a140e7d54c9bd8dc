#include "io/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "core/error.h"
#include "io/file.h"

namespace st {

namespace {

constexpr char kMagic[8] = {'S', 'T', 'C', 'K', 'P', 'T', '\0', '\1'};

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

class Writer {
 public:
  template <class T>
  void put(const T& v) { bytes(&v, sizeof v); }
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  void str32(const std::string& s) {
    put(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  std::vector<char>& buffer() { return buf_; }

 private:
  std::vector<char> buf_;
};

class Reader {
 public:
  Reader(const std::vector<char>& buf, const std::string& path) : buf_(buf), path_(path) {}
  template <class T>
  T get() {
    T v;
    need(sizeof v);
    std::memcpy(&v, buf_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string str(uint64_t n) {
    need(n);
    std::string s(buf_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  // n little-endian float32 values into dst (need() first: n comes from the file).
  void floats(real* dst, uint64_t n) {
    ST_CHECK(n <= (buf_.size() - pos_) / sizeof(float), "checkpoint '" << path_ << "' is truncated (needs " << n
                                                        << " floats at offset " << pos_ << " of " << buf_.size() << ")");
    for (uint64_t k = 0; k < n; ++k) {
      float f;
      std::memcpy(&f, buf_.data() + pos_ + k * sizeof f, sizeof f);
      dst[k] = static_cast<real>(f);
    }
    pos_ += n * sizeof(float);
  }
  size_t pos() const { return pos_; }

 private:
  void need(uint64_t n) {
    ST_CHECK(n <= buf_.size() - pos_, "checkpoint '" << path_ << "' is truncated (needs " << n << " more bytes at offset "
                                                     << pos_ << " of " << buf_.size() << ")");
  }
  const std::vector<char>& buf_;
  std::string path_;
  size_t pos_ = 0;
};

}  // namespace

const Tensor& Checkpoint::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  ST_THROW("checkpoint" << (source.empty() ? "" : " '" + source + "'") << " has no tensor '" << name << "'");
}

bool Checkpoint::has_tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

const std::string& Checkpoint::text(const std::string& key) const {
  auto it = texts.find(key);
  ST_CHECK(it != texts.end(), "checkpoint" << (source.empty() ? "" : " '" + source + "'") << " has no entry '" << key << "'");
  return it->second;
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  static_assert(sizeof(float) == 4, "checkpoints store float32");
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put(static_cast<uint64_t>(ckpt.tensors.size()));
  for (const auto& [name, t] : ckpt.tensors) {
    w.str32(name);
    w.put(static_cast<uint32_t>(t.dim()));
    for (int64_t d : t.shape()) w.put(static_cast<int64_t>(d));
    const real* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) w.put(static_cast<float>(p[i]));
  }
  w.put(static_cast<uint64_t>(ckpt.texts.size()));
  for (const auto& [key, value] : ckpt.texts) {
    w.str32(key);
    w.put(static_cast<uint64_t>(value.size()));
    w.bytes(value.data(), value.size());
  }
  std::vector<char>& buf = w.buffer();
  const uint64_t sum = fnv1a(buf.data(), buf.size());
  w.put(sum);

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ST_CHECK(fd >= 0, "cannot write checkpoint '" << tmp << "': " << std::strerror(errno));
  size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      ST_THROW("cannot write checkpoint '" << tmp << "': " << std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    ST_THROW("cannot write checkpoint '" << path << "': " << std::strerror(err));
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string bytes = read_file(path, "checkpoint");
  std::vector<char> buf(bytes.begin(), bytes.end());
  ST_CHECK(buf.size() >= sizeof kMagic + 8 && std::memcmp(buf.data(), kMagic, 7) == 0,
           "'" << path << "' is not a checkpoint file (bad magic)");
  ST_CHECK(buf[7] == kMagic[7], "checkpoint '" << path << "' has format version " << int(buf[7]) << "; this build reads version "
                                               << int(kMagic[7]));
  uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
  ST_CHECK(fnv1a(buf.data(), buf.size() - 8) == stored, "checkpoint '" << path << "' is corrupt (checksum mismatch)");
  buf.resize(buf.size() - 8);

  // The checksum only guards against accidents (anyone can compute FNV-1a): every count and size
  // below comes from the file and is checked against the bytes that remain before it is used.
  Reader r(buf, path);
  r.str(sizeof kMagic);
  Checkpoint ckpt;
  ckpt.source = path;
  const uint64_t n_tensors = r.get<uint64_t>();
  std::unordered_set<std::string> names;  // a hostile file may hold millions of tiny tensors
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string name = r.str(r.get<uint32_t>());
    const std::string shown = "tensor '" + printable(name) + "'";
    ST_CHECK(names.insert(name).second, "checkpoint '" << path << "' has " << shown << " twice");
    const uint32_t ndim = r.get<uint32_t>();
    ST_CHECK(ndim <= 8, "checkpoint '" << path << "': " << shown << " has " << ndim << " axes (at most 8)");
    Shape shape(ndim);
    for (uint32_t d = 0; d < ndim; ++d) {
      shape[d] = r.get<int64_t>();
      ST_CHECK(shape[d] >= 0 && shape[d] < (int64_t(1) << 40),
               "checkpoint '" << path << "': " << shown << " has extent " << shape[d] << " at offset " << r.pos() - 8);
    }
    // The element count, multiplied out only while it fits in the bytes left: no product can
    // overflow, and no allocation is larger than the file.
    const uint64_t left = buf.size() - r.pos(), max_numel = left / sizeof(float);
    bool empty = false;
    for (int64_t d : shape) empty = empty || d == 0;
    uint64_t numel = empty ? 0 : 1;
    for (size_t d = 0; d < shape.size() && numel; ++d) {
      ST_CHECK(numel <= max_numel / static_cast<uint64_t>(shape[d]),
               "checkpoint '" << path << "' is truncated inside " << shown << " of shape " << shape_str(shape) << " (" << left
                              << " bytes left at offset " << r.pos() << ")");
      numel *= static_cast<uint64_t>(shape[d]);
    }
    ST_CHECK(numel <= max_numel, "checkpoint '" << path << "' is truncated inside " << shown << " (" << left
                                                << " bytes left at offset " << r.pos() << ")");
    Tensor t = Tensor::empty(shape);
    r.floats(t.data(), numel);
    ckpt.tensors.emplace_back(std::move(name), t);
  }
  const uint64_t n_texts = r.get<uint64_t>();
  for (uint64_t i = 0; i < n_texts; ++i) {
    std::string key = r.str(r.get<uint32_t>());
    ST_CHECK(!ckpt.texts.count(key), "checkpoint '" << path << "' has entry '" << printable(key) << "' twice");
    ckpt.texts[key] = r.str(r.get<uint64_t>());
  }
  ST_CHECK(r.pos() == buf.size(), "checkpoint '" << path << "' has " << buf.size() - r.pos() << " unexpected trailing bytes");
  return ckpt;
}

uint64_t tensors_checksum(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& [name, t] : tensors) {
    const real* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float f = static_cast<float>(p[i]);
      h = fnv1a(&f, sizeof f, h);
    }
  }
  return h;
}

}  // namespace st
