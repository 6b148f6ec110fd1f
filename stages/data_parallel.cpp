#include "stages/data_parallel.h"

#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "common/files.h"
#include "config/loader.h"

namespace pipeline {

ShardRows ShardOf(int64_t batch, int rank, int size) {
  return {batch * rank / size, batch * (rank + 1) / size};
}

Status CheckDataParallel(const Context& ctx, const dist::Collective& world) {
  if (world.size() == 1) return Status::Ok();
  const auto& layers = ctx.config.model.layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].type != "batch_norm") continue;
    return ConfigErrorAt(ctx.config, fmt::format("model.layers.{}.type", i),
                         fmt::format("batch_norm cannot train data-parallel ({}): its batch statistics would be "
                                     "each rank's shard's, not the batch's; train it in one process",
                                     world.Describe()));
  }
  return Status::Ok();
}

Status CheckWorldSize(const Context& ctx, const dist::Collective& world) {
  const std::string path = ctx.run_dir + "/world_size";
  if (!ctx.resume) {
    if (world.size() == 1) return Status::Ok();
    return WriteFileAtomic(path, std::to_string(world.size()) + "\n");
  }
  int recorded = 1;
  std::ifstream in(path);
  if (in && !(in >> recorded)) return Status::Corruption(path + ": not a world size");
  if (recorded == world.size()) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "--resume {}: the run trained on {} process{} ({}), this one has {}; resume it with mpirun -np {}{}",
      ctx.run_dir, recorded, recorded == 1 ? "" : "es", in ? path : "no world_size file", world.size(), recorded,
      recorded == 1 ? " or without mpirun" : ""));
}

Status AgreeStatus(dist::Collective& world, const Status& st) {
  double failed = st.ok() ? 0.0 : 1.0;
  world.AllreduceSum(&failed, 1);
  if (!st.ok() || failed == 0.0) return st;
  return Status::Runtime(fmt::format("rank {} stops: another rank failed (its error is above)", world.rank()));
}

namespace {

void BroadcastFloats(dist::Collective& world, std::vector<float>& v) {
  world.Broadcast(v.data(), v.size() * sizeof(float));
}

}  // namespace

void BroadcastTrainingState(dist::Collective& world, Context& ctx, TrainPosition* pos) {
  if (world.size() == 1) return;
  for (Param* p : ctx.model->SavedTensors()) BroadcastFloats(world, p->value);
  for (const Slot& s : ctx.optimizer->slots()) BroadcastFloats(world, *s.values);
  int64_t steps[2] = {static_cast<int64_t>(ctx.model->steps()), ctx.optimizer->steps()};
  world.Broadcast(steps, sizeof steps);
  ctx.model->set_steps(static_cast<uint64_t>(steps[0]));
  ctx.optimizer->set_steps(steps[1]);
  world.Broadcast(pos, sizeof *pos);
}

void AllreduceGradients(dist::Collective& world, Network& net, std::vector<float>* flat) {
  if (world.size() == 1) return;
  flat->resize(static_cast<size_t>(net.ParameterCount()));
  float* at = flat->data();
  for (const Param* p : net.params()) at = std::copy(p->grad.begin(), p->grad.end(), at);
  world.AllreduceSum(flat->data(), flat->size());
  const float* from = flat->data();
  for (Param* p : net.params()) {
    std::copy(from, from + p->grad.size(), p->grad.begin());
    from += p->grad.size();
  }
}

uint64_t WeightHash(const Network& net) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const Param* p : net.SavedTensors()) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(p->value.data());
    for (size_t i = 0; i < p->value.size() * sizeof(float); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  return h;
}

Status CheckSameWeights(dist::Collective& world, const Network& net, int64_t epoch) {
  if (world.size() == 1) return Status::Ok();
  const uint64_t mine = WeightHash(net);
  uint64_t root = mine;
  world.Broadcast(&root, sizeof root);
  double differ[1] = {mine == root ? 0.0 : 1.0};
  world.AllreduceSum(differ, 1);
  if (differ[0] == 0.0) return Status::Ok();
  return Status::Runtime(fmt::format(
      "data-parallel ranks diverged: after epoch {} the weights of {} of {} ranks differ from rank 0's "
      "(hash {:016x} here, {:016x} on rank 0); the ranks must run the same binary, config and train.threads",
      epoch, static_cast<int>(differ[0]), world.size(), mine, root));
}

}  // namespace pipeline
