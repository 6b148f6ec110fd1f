// Request batching (--enable_batching, --batching_parameters_file): TF
// Serving's BatchingSession over a SharedBatchScheduler, for our servables.
//
// One BatchScheduler serves the whole process, as TF Serving's model server
// shares one SharedBatchScheduler among every model and version: its
// num_batch_threads threads are the only ones that run merged batches, so the
// flag bounds the model work in flight however many versions are loaded
// (per-servable schedulers would multiply it by the versions). Each servable
// gets its own RunBatcher from NewBatcher(); its runs queue in queues of their
// own, one per (signature key, output aliases, input aliases, dtypes and
// dims after the 0th), and the threads serve the queues round-robin.
//
// A queue is TF Serving's: a deque of batches, the last one open. A run of R
// rows (every input's 0th dimension) joins the open batch if it fits in
// max_batch_size rows, else closes it and opens a new one; a batch runs when
// it is closed, full, or batch_timeout_micros after its first run joined.
// The merged inputs are the runs' inputs concatenated along dimension 0 (then,
// with allowed_batch_sizes, padded up to the next allowed size with copies of
// the first row of the last run's inputs); Servable::RunUnbatched runs them
// once, and each caller gets its rows of every output (the padding rows are
// dropped). TF Serving's errors:
//   Task size 9 is larger than maximum input batch size 8            (InvalidArgument)
//   The batch scheduling queue to which this task was submitted is full;
//   currently 10 batches enqueued and max_enqueued_batches is 10     (Unavailable)
//   Batched output tensor has 0 dimensions                            (FailedPrecondition)
//   Batched output tensor's 0th dimension does not equal the sum of
//   the 0th dimension sizes of the input tensors                      (FailedPrecondition)
// A run that cannot be batched (no inputs, a scalar input, inputs whose 0th
// dimensions differ, zero rows, a resource input) runs on its own at once.
//
// Lifetime: a batch thread touches a servable only while running a batch of
// its runs, whose callers are all blocked in Servable::Run (and so keep it
// alive); it wakes them only after its last use of the servable. A servable,
// and with it its batcher, can therefore be destroyed as soon as its last
// caller returns, while the threads go on serving other servables. Queues
// are dropped when they empty. Stop (and the destructor) runs every queued
// batch at once, then joins the threads; runs after it go unbatched.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "proto/serving_session_bundle_config.pb.h"
#include "serving/servable.h"
#include "tfformat/tensor_value.h"

namespace pipeline::server {

// The number of CPUs this process may run on (TF's port::MaxParallelism):
// TF Serving's default num_batch_threads.
int64_t DefaultNumBatchThreads();

// TF Serving's BatchingParameters with the defaults of what they configure
// (SharedBatchScheduler::Options and QueueOptions, BatchingSessionOptions)
// for every field a file leaves out.
struct BatchingOptions {
  int64_t max_batch_size = 1000;  // QueueOptions::input_batch_size_limit
  int64_t batch_timeout_micros = 0;
  int64_t max_enqueued_batches = 10;
  int64_t num_batch_threads = DefaultNumBatchThreads();
  std::string thread_pool_name = "batch_threads";
  std::vector<int64_t> allowed_batch_sizes;  // empty: no padding
  bool pad_variable_length_inputs = false;
};

// What --enable_batching without a file gives (TF Serving's server.cc sets
// only the thread pool's name): every default, the threads named
// "model_server_batch_threads".
BatchingOptions DefaultServerBatchingOptions();

// TF Serving's checks, with its texts (InvalidArgument):
//   num_batch_threads must be positive; was 0
//   input_batch_size_limit must be positive; was 0       (max_batch_size)
//   batch_timeout_micros must be non-negative; was -1
//   max_enqueued_batches must be positive; was -1
//   allowed_batch_sizes entries must be monotonically increasing
//   Last entry in allowed_batch_sizes must match max_batch_size; last entry was 16; expected 32
// and ours: at most 4096 threads.
Status CheckBatchingOptions(const BatchingOptions& options);

// The options a message gives over the defaults (max_enqueued_batches 0
// becomes 1, as TF's AddQueue rewrites it), checked.
Status BatchingOptionsFromProto(const tensorflow::serving::BatchingParameters& params, BatchingOptions* out);

// --batching_parameters_file's text; InvalidArgument naming the file, line
// and column of a parse error, or the file and the failed check.
Status ParseBatchingParametersText(const std::string& text, const std::string& file, BatchingOptions* out);

// "max_batch_size=128 batch_timeout_micros=0 ..." for the server's log.
std::string DescribeBatchingOptions(const BatchingOptions& options);

// Counters since the scheduler started, and its state now.
struct BatchingStats {
  int64_t runs = 0;         // merged runs handed to the servables
  int64_t tasks = 0;        // the requests those runs answered
  int64_t rows = 0;         // their rows
  int64_t padded_rows = 0;  // rows added up to an allowed batch size
  int64_t unbatched = 0;    // requests run on their own (not batchable, or after Stop)
  int64_t rejected = 0;     // requests refused: larger than max_batch_size, or a full queue
  int64_t enqueued = 0;     // requests waiting in a queue now
  int64_t queues = 0;       // queues now
};

// The tensor work of a batch, on every dtype a TensorValue holds (numeric
// and DT_STRING); exposed for tests.
// `parts` concatenated along dimension 0 (one dtype, equal dims after the
// 0th, rank >= 1), then `padding_rows` copies of the last part's first row.
Status ConcatRows(const std::vector<TensorValue>& parts, int64_t padding_rows, TensorValue* out);
// Rows [begin, begin + count) of `t` (rank >= 1, in range; unchecked).
TensorValue SliceRows(const TensorValue& t, int64_t begin, int64_t count);
// pad_variable_length_inputs: `t` grown to `shape` (same rank and 0th
// dimension, no dim smaller) with t's first element after the existing ones
// in each dimension, as TF Serving's PadTensor does.
Status PadToShape(const TensorValue& t, const TensorShape& shape, TensorValue* out);

class BatchScheduler : public std::enable_shared_from_this<BatchScheduler> {
 public:
  // What runs a merged batch (and an unbatchable request): Servable::
  // RunUnbatched, unless a test wraps it.
  using Runner = std::function<Status(serving::Servable& servable, const std::string& key,
                                      const std::map<std::string, TensorValue>& inputs,
                                      const std::vector<std::string>& output_aliases,
                                      std::map<std::string, TensorValue>* outputs)>;

  // Checks `options` (CheckBatchingOptions) and starts the threads.
  static Status Create(const BatchingOptions& options, std::shared_ptr<BatchScheduler>* out, Runner runner = nullptr);
  ~BatchScheduler();  // Stop()

  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // A batcher for one servable (Servable::set_batcher). It keeps the
  // scheduler alive.
  std::shared_ptr<serving::RunBatcher> NewBatcher();

  // Every queued batch runs now, then the threads exit and are joined; later
  // runs go unbatched. Idempotent. Not from a batch thread.
  void Stop();

  BatchingStats stats() const;
  const BatchingOptions& options() const { return options_; }

 private:
  struct Task;
  struct Batch;
  struct Queue;
  class Batcher;
  using Clock = std::chrono::steady_clock;

  BatchScheduler(BatchingOptions options, Runner runner);
  Status Run(uint64_t batcher, serving::Servable& servable, const std::string& key,
             const std::map<std::string, TensorValue>& inputs, const std::vector<std::string>& output_aliases,
             std::map<std::string, TensorValue>* outputs);
  void ThreadLoop();
  // The next queue with a batch to run, round-robin; else when the earliest
  // open batch times out (Clock::time_point::max() if none). Under mu_.
  std::shared_ptr<Queue> NextSchedulable(Clock::time_point now, Clock::time_point* wake);
  bool Schedulable(const Queue& q, Clock::time_point now) const;
  // Merges, runs and splits one batch, records it, and wakes its callers
  // last. Without mu_.
  void Process(Queue& q, Batch& batch);
  int64_t PaddedSize(int64_t rows) const;

  const BatchingOptions options_;
  const Runner runner_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable work_cv_;
  std::map<std::string, std::shared_ptr<Queue>> queues_;  // by queue key
  std::string cursor_;                                    // the key served last (round-robin)
  uint64_t next_batcher_ = 1;
  bool stopping_ = false;
  BatchingStats stats_;
  std::mutex join_mu_;  // one Stop joins
  std::vector<std::thread> threads_;
};

}  // namespace pipeline::server
