#include "io/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"

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
  void read_into(void* dst, size_t n) {
    need(n);
    std::memcpy(dst, buf_.data() + pos_, n);
    pos_ += n;
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
  std::ifstream in(path, std::ios::binary);
  ST_CHECK(in, "cannot open checkpoint '" << path << "'");
  std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ST_CHECK(buf.size() >= sizeof kMagic + 8 && std::memcmp(buf.data(), kMagic, 7) == 0,
           "'" << path << "' is not a checkpoint file (bad magic)");
  ST_CHECK(buf[7] == kMagic[7], "checkpoint '" << path << "' has format version " << int(buf[7]) << "; this build reads version "
                                               << int(kMagic[7]));
  uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
  ST_CHECK(fnv1a(buf.data(), buf.size() - 8) == stored, "checkpoint '" << path << "' is corrupt (checksum mismatch)");
  buf.resize(buf.size() - 8);

  Reader r(buf, path);
  r.str(sizeof kMagic);
  Checkpoint ckpt;
  ckpt.source = path;
  const uint64_t n_tensors = r.get<uint64_t>();
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string name = r.str(r.get<uint32_t>());
    const uint32_t ndim = r.get<uint32_t>();
    ST_CHECK(ndim <= 8, "checkpoint '" << path << "': tensor '" << name << "' has " << ndim << " axes");
    Shape shape(ndim);
    for (uint32_t d = 0; d < ndim; ++d) {
      shape[d] = r.get<int64_t>();
      ST_CHECK(shape[d] >= 0 && shape[d] < (int64_t(1) << 40),
               "checkpoint '" << path << "': tensor '" << name << "' has extent " << shape[d]);
    }
    ST_CHECK(shape_numel(shape) * 4 <= static_cast<int64_t>(buf.size() - r.pos()),
             "checkpoint '" << path << "' is truncated inside tensor '" << name << "'");
    Tensor t = Tensor::empty(shape);
    real* p = t.data();
    for (int64_t k = 0; k < t.numel(); ++k) p[k] = static_cast<real>(r.get<float>());
    ckpt.tensors.emplace_back(std::move(name), t);
  }
  const uint64_t n_texts = r.get<uint64_t>();
  for (uint64_t i = 0; i < n_texts; ++i) {
    std::string key = r.str(r.get<uint32_t>());
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
