#include "dist/collective.h"

#include <cstdlib>

namespace pipeline::dist {

std::unique_ptr<Collective> NewMpiWorld(std::string* error);  // mpi_collective.cpp; null without MPI

namespace {

class SingleProcess : public Collective {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void Broadcast(void*, size_t) override {}
  void AllreduceSum(float*, size_t) override {}
  void AllreduceSum(double*, size_t) override {}
  void Barrier() override {}
  [[noreturn]] void Abort(int code) override { std::_Exit(code); }
  std::string Describe() const override { return "single process"; }
};

// The variables Open MPI's mpirun and Slurm's srun (PMIx or PMI-2) give a rank.
bool StartedByLauncher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

}  // namespace

std::unique_ptr<Collective> NewSingleProcess() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Collective> OpenWorld(std::string* error) {
  if (!StartedByLauncher()) return NewSingleProcess();
  if (!HasMpi()) {
    // One process per rank would each train the whole model into the same run directory.
    *error = "started by an MPI launcher (mpirun or srun), but this pipeline was built without MPI "
             "(-DPIPELINE_MPI=OFF, or no MPI found): rebuild with libopenmpi-dev installed";
    return nullptr;
  }
  return NewMpiWorld(error);
}

}  // namespace pipeline::dist
