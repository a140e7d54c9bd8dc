#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"

namespace st {

TopK count_correct(const Tensor& logits, const std::vector<int64_t>& labels) {
  ST_CHECK(logits.dim() == 2 && logits.size(0) == static_cast<int64_t>(labels.size()),
           "count_correct: logits " << shape_str(logits.shape()) << " do not match " << labels.size() << " labels");
  const int64_t n = logits.size(0), c = logits.size(1);
  const real* p = logits.data();
  TopK k;
  for (int64_t i = 0; i < n; ++i) {
    ST_CHECK(labels[i] >= 0 && labels[i] < c,
             "count_correct: sample " << i << " has label " << labels[i] << " outside [0, " << c << ")");
    const real* row = p + i * c;
    const real target = row[labels[i]];
    // Rank of the label: how many other classes score at least as high. A tie counts against
    // the label (an all-zero model must not score 100 %), and a NaN anywhere in the row makes
    // the sample wrong (the comparisons with NaN are false, which would otherwise favour it).
    int64_t rivals = 0;
    bool nan = false;
    for (int64_t j = 0; j < c; ++j) {
      nan = nan || std::isnan(row[j]);
      rivals += j != labels[i] && row[j] >= target;
    }
    if (nan) continue;
    k.top1 += rivals < 1;
    k.top5 += rivals < 5;
  }
  return k;
}

void JsonLine::key(const std::string& k) {
  if (!body_.empty()) body_ += ", ";
  body_ += "\"" + json_escape(k) + "\": ";
}

JsonLine& JsonLine::add(const std::string& k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    body_ += "null";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    body_ += buf;
  }
  return *this;
}

JsonLine& JsonLine::add(const std::string& k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(const std::string& k, const std::string& value) {
  key(k);
  body_ += "\"" + json_escape(value) + "\"";
  return *this;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

namespace {
// The value of "epoch" in a line written by JsonLine, or -1.
int64_t epoch_of(const std::string& line) {
  const size_t at = line.find("\"epoch\": ");
  if (at == std::string::npos) return -1;
  return std::strtoll(line.c_str() + at + 9, nullptr, 10);
}
}  // namespace

void MetricsLog::open(const std::string& path, int64_t keep_below_epoch) {
  path_ = path;
  std::vector<std::string> kept;
  if (keep_below_epoch >= 0) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && epoch_of(line) < keep_below_epoch) kept.push_back(line);
  }
  out_.open(path, std::ios::trunc);
  ST_CHECK(out_, "cannot write metrics log '" << path << "'");
  for (const std::string& line : kept) out_ << line << "\n";
  out_.flush();
}

void MetricsLog::write(const JsonLine& line) {
  if (!out_.is_open()) return;
  out_ << line.str() << "\n";
  out_.flush();
  ST_CHECK(out_, "cannot write metrics log '" << path_ << "'");
}

}  // namespace st
