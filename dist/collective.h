// The collective operations data-parallel training needs, behind one seam:
// a single-process world (no MPI at all) or Open MPI's C API (mpi_collective.cpp,
// built with PIPELINE_MPI). Only the train stage and `pipeline run` use it; the
// engine never knows how many processes share a step.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace pipeline::dist {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool primary() const { return rank() == 0; }
  // Rank 0's `bytes` bytes at `data` into every rank's.
  virtual void Broadcast(void* data, size_t bytes) = 0;
  // Element-wise sums over all ranks, in place; every rank gets the same values.
  virtual void AllreduceSum(float* data, size_t count) = 0;
  virtual void AllreduceSum(double* data, size_t count) = 0;
  virtual void Barrier() = 0;
  // Ends every rank of the world with `code` (a failure one rank cannot share).
  [[noreturn]] virtual void Abort(int code) = 0;
  // "single process" or "Open MPI, 2 ranks".
  virtual std::string Describe() const = 0;
};

// One process: every operation is the identity.
std::unique_ptr<Collective> NewSingleProcess();

// The world this process was started in: MPI when a launcher (mpirun, srun)
// set its variables and the build has MPI, else a single process. A process
// started by a launcher in a build without MPI fails: set *error and return null.
std::unique_ptr<Collective> OpenWorld(std::string* error);

// Whether this build has the MPI implementation.
bool HasMpi();

}  // namespace pipeline::dist
