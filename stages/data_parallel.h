// What the train stage does between processes when several share a model
// (mpirun -np N pipeline run ...; docs/distributed.md): rank 0's state to all,
// one gradient allreduce per step, agreed decisions and a divergence check.
// With one process every function is a no-op that returns its input.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "dist/collective.h"
#include "stages/checkpoint.h"
#include "stages/context.h"

namespace pipeline {

// The rows [begin, end) of a `batch`-row global batch that `rank` of `size` trains.
struct ShardRows {
  int64_t begin = 0, end = 0;
  int64_t rows() const { return end - begin; }
};
ShardRows ShardOf(int64_t batch, int rank, int size);

// InvalidArgument when the config cannot train data-parallel over `world`
// (batch_norm's batch statistics would be per shard).
Status CheckDataParallel(const Context& ctx, const dist::Collective& world);

// A data-parallel run records its world size in <run_dir>/world_size (rank 0);
// --resume must use the same one (a run without the file had one process),
// since the shards and the allreduce order shape its numbers.
Status CheckWorldSize(const Context& ctx, const dist::Collective& world);

// One verdict for all ranks: `st` where it failed; elsewhere, when some rank
// failed, Runtime("rank 0 failed ...").
Status AgreeStatus(dist::Collective& world, const Status& st);

// Rank 0's weights, layer state, optimizer slots and steps, the network's
// step count and `pos` into every rank.
void BroadcastTrainingState(dist::Collective& world, Context& ctx, TrainPosition* pos);

// Sums every Param::grad over the ranks in one allreduce (through `flat`).
void AllreduceGradients(dist::Collective& world, Network& net, std::vector<float>* flat);

// FNV-1a of every parameter's bytes.
uint64_t WeightHash(const Network& net);
// Runtime when some rank's weights differ from rank 0's after `epoch` (1-based).
Status CheckSameWeights(dist::Collective& world, const Network& net, int64_t epoch);

}  // namespace pipeline
