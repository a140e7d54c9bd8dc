// Tasks (classification, language modelling) through the training loop's parts, and the loop's
// divergence guards.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "data/token_streams.h"
#include "layers/linear.h"
#include "models/word_lm.h"
#include "optim/sgd.h"
#include "train/classification_task.h"
#include "train/language_model_task.h"
#include "train/run_dir.h"
#include "train/train_loop.h"

using namespace st;

namespace {

// A corpus with structure an LSTM learns quickly: the cycle 0 1 2 ... 9 repeated.
std::shared_ptr<const std::vector<int64_t>> cyclic_corpus(int64_t n) {
  auto c = std::make_shared<std::vector<int64_t>>(n);
  for (int64_t i = 0; i < n; ++i) (*c)[i] = i % 10;
  return c;
}

std::shared_ptr<WordLstmLm> small_lm(uint64_t seed, double dropout = 0) {
  WordLmOptions o;
  o.vocabulary = 10;
  o.embedding = 8;
  o.hidden = 12;
  o.layers = 2;
  o.dropout = dropout;
  o.init_range = 0.3;  // smaller starts make two layers learn this corpus far more slowly
  Generator gen(seed);
  return std::make_shared<WordLstmLm>(o, gen);
}

EpochSetup setup_for(Task& task, BatchSource& source, Sgd& sgd, double lr) {
  EpochSetup s{task, source, sgd, 5.0, 7, 1000, 1, false, nullptr, {}};
  s.lr = [lr](int64_t, int64_t) { return lr; };
  return s;
}

}  // namespace

TEST_CASE("language model task: training lowers the perplexity; evaluation carries and resets the state",
          "[train][task][lm]") {
  auto model = small_lm(3);
  LanguageModelTask task(model);
  TokenStreamOptions o;
  o.streams = 4;
  o.steps = 6;
  TokenStreamLoader train(cyclic_corpus(800), o);
  const Report before = task.report(evaluate(task, train), false);
  CHECK(metric(before, "ppl") == Approx(std::exp(metric(before, "loss"))));
  CHECK(metric(before, "ppl") > 8);  // about uniform over 10 words at the start
  Sgd sgd({ParamGroup{model->parameters(), 0.0}}, SgdOptions{});
  const EpochSetup s = setup_for(task, train, sgd, 1.0);
  for (int64_t epoch = 0; epoch < 12; ++epoch) train_epoch(s, epoch);
  const MetricSums sums = evaluate(task, train);
  CHECK(sums.count == train.examples_per_epoch());
  const double ppl = metric(task.report(sums, false), "ppl");
  CHECK(ppl < 2.0);

  // Evaluation by hand: the state carried from block to block of the same streams, from zero.
  NoGradGuard no_grad;
  model->eval();
  std::vector<Tensor> state;
  double loss_sum = 0;
  int64_t count = 0;
  for (int64_t k = 0; k < train.batches_per_epoch(); ++k) {
    const Batch b = train.make_batch(0, k);
    const Tensor logits = model->forward(b.tokens, b.rows, b.steps, state);
    loss_sum += cross_entropy(logits, b.targets).item() * static_cast<double>(b.size());
    count += b.size();
  }
  CHECK(sums.loss_sum / static_cast<double>(sums.count) == Approx(loss_sum / static_cast<double>(count)).epsilon(1e-6));
  // A second pass starts from the zero state again: the same numbers.
  const MetricSums again = evaluate(task, train);
  CHECK(again.loss_sum == sums.loss_sum);
}

TEST_CASE("language model task: dropout masks are a pure function of (seed, epoch, batch)", "[train][task][lm]") {
  TokenStreamOptions o;
  o.streams = 2;
  o.steps = 5;
  TokenStreamLoader data(cyclic_corpus(200), o);
  const Batch b = data.make_batch(3, 4);
  auto loss_of = [&](uint64_t seed) {
    LanguageModelTask task(small_lm(1, 0.5));
    task.model().train();
    MetricSums sums;
    return task.training_loss(b, seed, &sums).item();
  };
  CHECK(loss_of(11) == loss_of(11));
  CHECK(loss_of(11) != loss_of(12));
}

TEST_CASE("language model task: a distillation teacher carries its own state", "[train][task][lm]") {
  TokenStreamOptions o;
  o.streams = 2;
  o.steps = 5;
  TokenStreamLoader data(cyclic_corpus(200), o);
  auto student = small_lm(1), teacher = small_lm(2);
  DistillOptions d;
  d.lambda = 1;  // the soft loss alone
  LanguageModelTask task(student, teacher, d);
  task.model().train();
  task.start_pass();
  MetricSums sums;
  std::vector<Tensor> s_state, t_state;
  for (int64_t k = 0; k < 3; ++k) {
    const Batch b = data.make_batch(0, k);
    const double got = task.training_loss(b, 0, &sums).item();
    NoGradGuard no_grad;
    const Tensor zs = student->forward(b.tokens, b.rows, b.steps, s_state);
    const Tensor zt = teacher->forward(b.tokens, b.rows, b.steps, t_state);
    CHECK(got == Approx(soft_cross_entropy(zs, zt, 1).item()).epsilon(1e-5));
  }
  CHECK_THROWS_WITH(LanguageModelTask(student, [] {
                      WordLmOptions w;
                      w.vocabulary = 11, w.embedding = 4, w.hidden = 4, w.layers = 1;
                      Generator g(1);
                      return std::make_shared<WordLstmLm>(w, g);
                    }()),
                    Catch::Contains("vocabulary"));
}

namespace {

// A classifier that is fine in training and emits NaN logits in evaluation mode.
class NanInEval : public Layer {
 public:
  NanInEval() {
    Generator gen(1);
    fc_ = register_module("fc", std::make_shared<Linear>(LinearOptions{4, 3, true}, gen));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = (*fc_)(x);
    if (is_training()) return y;
    Tensor bad = y.detach().clone();
    for (int64_t i = 0; i < bad.numel(); ++i) bad.data()[i] = std::numeric_limits<real>::quiet_NaN();
    return bad;
  }
  std::string describe() const override { return "NanInEval"; }

 private:
  std::shared_ptr<Linear> fc_;
};

// Four examples of 4 features, labels 0..2, as one batch per epoch.
class TinyBatches : public BatchSource {
 public:
  void start_epoch(int64_t epoch, int64_t first) override { epoch_ = epoch, next_ = first; }
  bool next(Batch& out) override {
    if (next_ >= 1) return false;
    out = Batch();
    out.inputs = Tensor::ones({4, 4});
    out.targets = {0, 1, 2, 0};
    out.epoch = epoch_;
    out.index = next_++;
    return true;
  }
  int64_t batches_per_epoch() const override { return 1; }
  int64_t examples_per_epoch() const override { return 4; }

 private:
  int64_t epoch_ = 0, next_ = 0;
};

ExperimentConfig one_phase_config() {
  ExperimentConfig c;
  c.name = "tiny";
  c.epochs = 2;
  PhaseConfig p;
  p.name = "phase1";
  p.epochs = 2;
  c.phases = {p};
  return c;
}

}  // namespace

TEST_CASE("training loop: a NaN evaluation loss stops the run before any checkpoint is written", "[train][diverge]") {
  ClassificationTask task(std::make_shared<NanInEval>());
  TinyBatches data;
  MetricsLog log;
  int saves = 0;
  const SaveFn save = [&](const TrainState&, bool, bool) { ++saves; };
  CHECK_THROWS_WITH(run_phase(one_phase_config(), 0, 0, 2, task, data, EvalSets{&data, nullptr}, log, nullptr, false, save),
                    Catch::Contains("diverged") && Catch::Contains("test loss is nan") && Catch::Contains("epoch 1"));
  CHECK(saves == 0);
}

TEST_CASE("training loop: a checkpoint is never made from a non-finite parameter or buffer", "[train][diverge]") {
  Generator gen(1);
  Linear model(LinearOptions{3, 2, true}, gen);
  ExperimentConfig c = one_phase_config();
  TrainState s;
  s.epoch = 4;
  CHECK_NOTHROW(make_checkpoint(model, s, c));
  model.bias()->data()[1] = std::numeric_limits<real>::infinity();
  CHECK_THROWS_WITH(make_checkpoint(model, s, c),
                    Catch::Contains("diverged") && Catch::Contains("'bias'") && Catch::Contains("after epoch 4"));
}

TEST_CASE("classification task: metrics and the training report", "[train][task]") {
  ClassificationTask task(std::make_shared<NanInEval>());
  TinyBatches data;
  task.model().train();
  MetricSums sums;
  data.start_epoch(0, 0);
  Batch b;
  REQUIRE(data.next(b));
  const double loss = task.training_loss(b, 0, &sums).item();
  CHECK(sums.count == 4);
  CHECK(sums.loss_sum == Approx(4 * loss));
  const Report train = task.report(sums, true), eval = task.report(sums, false);
  CHECK(train.size() == 2);  // loss, top1
  CHECK(eval.size() == 3);   // loss, top1, top5
  CHECK(metric(eval, "top5") == 1.0);  // 3 classes: every label is in the top 5
  CHECK_THROWS_WITH(metric(eval, "ppl"), Catch::Contains("ppl"));
  CHECK(format_scores(eval).find("top-5 100.00%") != std::string::npos);
}
