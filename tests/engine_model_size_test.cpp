// engine/model_size.h counts what the engine builds, without building it: the
// parameter and FLOP counts equal a built Network's, and overflow is an error
// naming the layer instead of a wrapped count.
#include <doctest/doctest.h>

#include "engine/model_size.h"
#include "engine/network.h"
#include "engine/runtime.h"

using namespace pipeline;

namespace {

NetworkSpec Spec(int64_t input, std::vector<int64_t> units) {
  NetworkSpec s;
  s.input = input;
  for (size_t i = 0; i < units.size(); ++i) {
    LayerSpec l;
    l.name = "dense_" + std::to_string(i);
    l.units = units[i];
    l.activation = i + 1 < units.size() ? "relu" : "linear";
    s.layers.push_back(l);
  }
  return s;
}

}  // namespace

TEST_CASE("model size: counts equal a built network's") {
  Runtime runtime(1);
  for (const auto& units : std::vector<std::vector<int64_t>>{{10}, {256, 256, 10}, {3, 7, 2}}) {
    const NetworkSpec spec = Spec(784, units);
    std::unique_ptr<Network> net;
    REQUIRE(Network::Create(spec, &runtime, &net).ok());
    ModelSize size;
    size_t failed = 99;
    REQUIRE(SizeModel(spec, "adam", 100, 1000, &size, &failed).ok());
    CHECK(size.params == net->ParameterCount());
    CHECK(size.inference_flops == net->InferenceFlopsPerExample());
    CHECK(size.training_flops == net->TrainingFlopsPerExample());
    // adam: value, gradient, m, v and a scratch buffer per parameter element.
    CHECK(size.layers[0].param_bytes == size.layers[0].params * 5 * 4);
  }
}

// gelu and softplus keep a training batch's pre-activations (engine/activation.h):
// one more [batch, out] buffer than the same layer with relu.
TEST_CASE("model size: gelu and softplus layers count the pre-activations they keep") {
  for (const std::string act : {"gelu", "softplus"}) {
    CAPTURE(act);
    NetworkSpec relu = Spec(784, {64, 10}), kept = relu;
    kept.layers[0].activation = act;
    ModelSize with_relu, with_kept;
    size_t failed = 99;
    REQUIRE(SizeModel(relu, "sgd", 100, 1000, &with_relu, &failed).ok());
    REQUIRE(SizeModel(kept, "sgd", 100, 1000, &with_kept, &failed).ok());
    CHECK(with_kept.layers[0].activation_bytes - with_relu.layers[0].activation_bytes == 100 * 64 * 4);
    CHECK(with_kept.layers[1].activation_bytes == with_relu.layers[1].activation_bytes);
    // The same through the image-layer path: a conv's [h, w, filters] output.
    NetworkSpec conv;
    conv.input_shape = {6, 6, 1};
    LayerSpec c{"conv2d", "c", 0, "relu"};
    c.filters = 3;
    c.kernel = {3, 3};
    conv.layers = {c, LayerSpec{"flatten", "f"}, LayerSpec{"dense", "d", 10, "linear"}};
    NetworkSpec conv_kept = conv;
    conv_kept.layers[0].activation = act;
    REQUIRE(SizeModel(conv, "sgd", 100, 1000, &with_relu, &failed).ok());
    REQUIRE(SizeModel(conv_kept, "sgd", 100, 1000, &with_kept, &failed).ok());
    CHECK(with_kept.layers[0].activation_bytes - with_relu.layers[0].activation_bytes == 100 * 4 * 4 * 3 * 4);
  }
}

TEST_CASE("model size: an overflowing layer is an error naming it") {
  ModelSize size;
  size_t failed = 99;
  const Status st = SizeModel(Spec(int64_t{1} << 62, {4}), "sgd", 100, 1000, &size, &failed);
  CHECK(st.IsInvalidArgument());
  CHECK(failed == 0);
  CHECK(st.message().find("layer 'dense_0' (4611686018427387904 inputs x 4 units)") != std::string::npos);
  // Counts that fit, bytes that do not: 2^40 x 2^20 parameters, 4+ bytes each.
  CHECK(SizeModel(Spec(784, {int64_t{1} << 40, int64_t{1} << 20}), "sgd", 1, 1, &size, &failed).IsInvalidArgument());
  CHECK(failed == 1);
  CHECK(FormatBytes(10600000) == "10.6 MB");
  CHECK(FormatBytes(999) == "999 bytes");
  CHECK(FormatBytes(999700) == "1 MB");
}

TEST_CASE("engine: model size of a CNN counts its layers' own parameters and FLOPs") {
  NetworkSpec spec;
  spec.input = 784;
  spec.input_shape = {28, 28, 1};
  LayerSpec conv{"conv2d", "c", 0, "relu"};
  conv.filters = 8;
  conv.kernel = {3, 3};
  conv.padding = "same";
  LayerSpec pool{"max_pool2d", "p"};
  pool.pool = {2, 2};
  spec.layers = {conv, pool, LayerSpec{"flatten", "f"}, LayerSpec{"dense", "d", 10, "linear"}};
  ModelSize m;
  size_t failed = 0;
  REQUIRE(SizeModel(spec, "sgd", 100, 1000, &m, &failed).ok());
  // conv 3*3*1*8 + 8, dense 14*14*8*10 + 10, by hand.
  CHECK(m.params == (72 + 8) + (1568 * 10 + 10));
  // forward: conv 2*28*28*8*9, pool 14*14*8*4, dense 2*1568*10.
  CHECK(m.inference_flops == 2 * 28 * 28 * 8 * 9 + 14 * 14 * 8 * 4 + 2 * 1568 * 10);
  Runtime runtime(1);
  std::unique_ptr<Network> net;
  REQUIRE(Network::Create(spec, &runtime, &net).ok());
  CHECK(m.params == net->ParameterCount());
  CHECK(m.training_flops == net->TrainingFlopsPerExample());
}
