// strassen count: multiplications, additions, parameters and model size of a config's model for
// one input at the dataset's size (batch 1), per layer and in total, with the accounting of
// strassennets.md §6 (analysis/op_count.h, docs/counting.md).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "analysis/op_count.h"
#include "apps/cli.h"
#include "config/experiment.h"
#include "io/checkpoint.h"
#include "models/factory.h"
#include "train/model_state.h"

namespace {

std::string shape_text(const st::Shape& s) {
  std::string t;
  for (size_t i = 1; i < s.size(); ++i) t += (i > 1 ? "x" : "") + std::to_string(s[i]);  // without the batch axis
  return t.empty() ? "-" : t;
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::vector<std::string> notes(const st::ExperimentConfig& c, const std::string& checkpoint, const st::ModelCount& m) {
  std::vector<std::string> n;
  n.push_back("one inference at batch 1, input " + shape_text(m.input) + " (" + c.data.dataset + ")");
  if (!checkpoint.empty()) n.push_back("weights from " + checkpoint);
  if (m.strassen_layers > m.dense_strassen_layers) {
    const std::string mode = st::strassen_mode_name(c.model.strassen.layer.mode);
    n.push_back("Strassen layers counted as deployed: W_b, W_c ternary (dense matrices, 2 bits per entry)" +
                std::string(mode == "spn_ternary" || mode == "ternary_frozen" ? "" : "; the config's mode is " + mode));
    if (!checkpoint.empty())
      n.push_back("adds!=0: the additions left when the zero entries of the checkpoint's ternary W_b, W_c are skipped");
  }
  if (m.dense_strassen_layers > 0) n.push_back("Strassen layers in dense mode counted as the layers they replace");
  n.push_back("batch norm folded into the layer before it (no operations; gamma, beta counted as parameters); "
              "running statistics are buffers, not parameters");
  n.push_back("not counted: residual additions, ReLU, pooling");
  if (m.unused_params > 0)
    n.push_back(std::to_string(m.unused_params) +
                " registered parameters that the current mode does not use are left out (dense weights of SPN "
                "layers, SPN matrices of dense ones)");
  return n;
}

void print_table(const st::ExperimentConfig& c, const std::string& checkpoint, const st::ModelCount& m) {
  // The adds!=0 column only means something for trained weights.
  const bool nonzero = !checkpoint.empty() && m.strassen_layers > m.dense_strassen_layers;
  auto cells = [&](const std::string& name, const std::string& type, const std::string& detail, const std::string& out,
                   const st::LayerCount& l) {
    std::vector<std::string> v{name, type, detail, out, std::to_string(l.mults), std::to_string(l.adds)};
    if (nonzero) v.push_back(std::to_string(l.adds_nonzero));
    v.push_back(std::to_string(l.params));
    v.push_back(std::to_string(l.bits));
    return v;
  };
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"layer", "type", "detail", "output", "mults", "adds"});
  if (nonzero) rows.back().push_back("adds!=0");
  rows.back().push_back("params");
  rows.back().push_back("bits");
  for (const st::LayerCount& l : m.layers)
    rows.push_back(cells(l.name.empty() ? "(model)" : l.name, l.type, l.detail, shape_text(l.output), l));
  const st::LayerCount& t = m.total;
  rows.push_back(cells("total", "", "", "", t));
  const size_t cols = rows[0].size();
  std::vector<size_t> width(cols, 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < cols; ++i) width[i] = std::max(width[i], r[i].size());
  std::printf("%s: %s\n", c.source.c_str(), c.model.name.c_str());
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k + 1 == rows.size()) {
      size_t total_width = 0;
      for (size_t w : width) total_width += w + 2;
      std::printf("%s\n", std::string(total_width - 2, '-').c_str());
    }
    std::string line;
    for (size_t i = 0; i < cols; ++i) {
      const std::string& s = rows[k][i];
      const std::string pad(width[i] - s.size(), ' ');
      line += (i < 4 ? s + pad : pad + s) + (i + 1 < cols ? "  " : "");  // text left, numbers right
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
  std::printf("multiplications %s, additions %s%s, parameters %lld (%lld ternary), size %lld bits = %.2f bits/2^20 "
              "(the paper's size axis) = %lld bytes\n",
              sci(static_cast<double>(t.mults)).c_str(), sci(static_cast<double>(t.adds)).c_str(),
              nonzero ? (" (" + sci(static_cast<double>(t.adds_nonzero)) + " without zero entries)").c_str() : "",
              static_cast<long long>(t.params), static_cast<long long>(t.ternary_params),
              static_cast<long long>(t.bits), m.size_mbits(), static_cast<long long>(m.size_bytes()));
  for (const std::string& n : notes(c, checkpoint, m)) std::printf("note: %s\n", n.c_str());
}

nlohmann::json to_json(const st::LayerCount& l) {
  return {{"name", l.name},     {"type", l.type},   {"detail", l.detail}, {"output", l.output},
          {"calls", l.calls},   {"mults", l.mults}, {"adds", l.adds},     {"adds_nonzero", l.adds_nonzero},
          {"params", l.params}, {"ternary_params", l.ternary_params},     {"bits", l.bits}};
}

void print_json(const st::ExperimentConfig& c, const std::string& checkpoint, const st::ModelCount& m) {
  nlohmann::json j;
  j["config"] = c.source;
  if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
  j["model"] = c.model.name;
  j["dataset"] = c.data.dataset;
  j["strassen_mode"] = c.model.strassen.enabled ? st::strassen_mode_name(c.model.strassen.layer.mode) : "none";
  j["input"] = m.input;
  j["layers"] = nlohmann::json::array();
  for (const st::LayerCount& l : m.layers) j["layers"].push_back(to_json(l));
  nlohmann::json t = to_json(m.total);
  for (const char* key : {"name", "type", "detail", "output", "calls"}) t.erase(key);
  t["size_mbits"] = m.size_mbits();  // bits / 2^20, the paper's size axis
  t["size_bytes"] = m.size_bytes();
  j["total"] = t;
  j["unused_params"] = m.unused_params;
  j["notes"] = notes(c, checkpoint, m);
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

int cmd_count(int argc, char** argv) {
  cxxopts::Options options("strassen count",
                           "Multiplications, additions, parameters and model size of a config's model for one input "
                           "(batch 1, the dataset's image size), per layer and in total (docs/counting.md).");
  options.add_options()("config", "experiment config (JSON)", cxxopts::value<std::string>())(
      "checkpoint", "load these weights into the model first (validates the checkpoint against the config)",
      cxxopts::value<std::string>())("set", "override a config key: key.path=value (repeatable)",
                                     cxxopts::value<std::vector<std::string>>())(
      "json", "print one JSON object instead of the table");
  cxxopts::ParseResult r = st::cli::parse(options, argc, argv);
  std::vector<std::string> overrides;
  if (r.count("set")) overrides = r["set"].as<std::vector<std::string>>();
  const st::ExperimentConfig config = st::load_experiment_config(st::cli::require(r, "config"), overrides);
  st::Generator gen(config.seed);
  std::shared_ptr<st::Layer> model = st::build_model(config.model, gen);
  std::string checkpoint;
  if (r.count("checkpoint")) {
    checkpoint = r["checkpoint"].as<std::string>();
    st::load_model_state(st::load_checkpoint(checkpoint), *model);
  }
  const st::ModelCount m = st::count_model(*model, {1, 3, config.data.image_size, config.data.image_size});
  if (r.count("json"))
    print_json(config, checkpoint, m);
  else
    print_table(config, checkpoint, m);
  return 0;
}
