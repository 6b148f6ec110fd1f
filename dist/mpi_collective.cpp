// Collective over Open MPI's C API (the C++ bindings are gone in Open MPI 5).
// Compiled to a stub when the build has no MPI (PIPELINE_HAVE_MPI unset).
#include <memory>
#include <string>

#include "dist/collective.h"

#ifdef PIPELINE_HAVE_MPI
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fmt/format.h>

namespace pipeline::dist {
namespace {

class MpiWorld : public Collective {
 public:
  MpiWorld() {
    int provided = 0;
    // Only the main thread calls MPI; OpenMP's workers never do.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    // A failed call ends every rank (MPI's default), instead of leaving the others in a collective.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiWorld() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void Broadcast(void* data, size_t bytes) override {
    for (size_t done = 0; done < bytes;) {
      const size_t n = std::min<size_t>(bytes - done, INT_MAX);
      MPI_Bcast(static_cast<char*>(data) + done, static_cast<int>(n), MPI_BYTE, 0, MPI_COMM_WORLD);
      done += n;
    }
  }
  void AllreduceSum(float* data, size_t count) override { Reduce(data, count, MPI_FLOAT); }
  void AllreduceSum(double* data, size_t count) override { Reduce(data, count, MPI_DOUBLE); }
  void Barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  [[noreturn]] void Abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }
  std::string Describe() const override { return fmt::format("MPI, {} ranks", size_); }

 private:
  template <typename T>
  void Reduce(T* data, size_t count, MPI_Datatype type) {
    for (size_t done = 0; done < count;) {
      const size_t n = std::min<size_t>(count - done, INT_MAX);
      MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(n), type, MPI_SUM, MPI_COMM_WORLD);
      done += n;
    }
  }
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool HasMpi() { return true; }
std::unique_ptr<Collective> NewMpiWorld(std::string*) { return std::make_unique<MpiWorld>(); }

}  // namespace pipeline::dist

#else

namespace pipeline::dist {
bool HasMpi() { return false; }
std::unique_ptr<Collective> NewMpiWorld(std::string* error) {
  *error = "built without MPI";
  return nullptr;
}
}  // namespace pipeline::dist

#endif
