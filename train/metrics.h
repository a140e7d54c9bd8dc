#pragma once
// Classification metrics and the JSON-lines metrics log.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace st {

// Counts of samples whose label is the arg-max (top-1) or among the 5 largest logits (top-5).
// logits: [N, C]; labels: N entries in [0, C) (throws st::Error naming the sample otherwise).
// The rule: a sample is top-k correct when its row has no NaN and fewer than k of the other
// logits are >= its label's logit. Ties therefore count against the label: an all-equal row
// (a model with all weights zero) is correct for no k < C, and a NaN model scores 0, not 100 %.
struct TopK {
  int64_t top1 = 0, top5 = 0;
};
TopK count_correct(const Tensor& logits, const std::vector<int64_t>& labels);

// One flat JSON object built field by field: JsonLine().add("epoch", 3).add("loss", 0.5).str().
class JsonLine {
 public:
  JsonLine& add(const std::string& key, double value);
  JsonLine& add(const std::string& key, int64_t value);
  JsonLine& add(const std::string& key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonLine& add(const std::string& key, const std::string& value);
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

std::string json_escape(const std::string& s);

// Appends lines to a file, flushing each so that a killed run keeps everything it logged.
class MetricsLog {
 public:
  MetricsLog() = default;
  // keep_below_epoch >= 0: first drops existing lines whose "epoch" is >= it (a resumed run
  // re-logs the epochs it repeats); -1: start a new file.
  void open(const std::string& path, int64_t keep_below_epoch);
  void write(const JsonLine& line);

 private:
  std::ofstream out_;
  std::string path_;
};

}  // namespace st
