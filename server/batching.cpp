#include "server/batching.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <system_error>

#include "server/text_proto.h"
#include "tfformat/bundle_tensor.h"

namespace pipeline::server {

using tensorflow::DataType;

namespace {

// More batch threads than this is a mistake (and would exhaust the process's
// threads before the first request); TF Serving has no such limit.
constexpr int64_t kMaxBatchThreads = 4096;
// Timeouts beyond a century are "never": the deadline must not overflow the clock.
constexpr int64_t kMaxTimeoutMicros = int64_t{100} * 365 * 24 * 3600 * 1000000;

bool Batchable(DataType dtype) { return dtype == tensorflow::DT_STRING || DataTypeSize(dtype) > 0; }

// One field of a queue key: its length, then its bytes, so that no two
// different field lists give the same key.
void AppendField(std::string* key, const std::string& field) {
  *key += std::to_string(field.size());
  *key += ':';
  *key += field;
}

// Whether `inputs` can join a batch (every input a batchable dtype with rank
// >= 1 and one 0th dimension, at least one row) and, if so, that 0th
// dimension and what a batch's runs must share: the aliases, dtypes, ranks
// and (unless variable-length inputs are padded) the dims after the 0th.
bool BatchableRun(const std::map<std::string, TensorValue>& inputs, bool pad_variable_length, int64_t* rows,
                  std::string* layout) {
  if (inputs.empty()) return false;
  *rows = -1;
  layout->clear();
  for (const auto& [alias, t] : inputs) {
    if (!t.valid() || !Batchable(t.dtype()) || t.rank() < 1) return false;
    if (*rows >= 0 && t.dim(0) != *rows) return false;
    *rows = t.dim(0);
    AppendField(layout, alias);
    AppendField(layout, std::to_string(t.dtype()) + "/" + std::to_string(t.rank()));
    if (!pad_variable_length) {
      for (int d = 1; d < t.rank(); ++d) AppendField(layout, std::to_string(t.dim(d)));
    }
  }
  return *rows > 0;
}

int64_t RowElements(const TensorShape& shape) {
  int64_t n = 1;
  for (size_t d = 1; d < shape.size(); ++d) n *= shape[d];
  return n;
}

}  // namespace

int64_t DefaultNumBatchThreads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

BatchingOptions DefaultServerBatchingOptions() {
  BatchingOptions o;
  o.thread_pool_name = "model_server_batch_threads";
  return o;
}

Status CheckBatchingOptions(const BatchingOptions& o) {
  if (o.num_batch_threads < 1) {
    return Status::InvalidArgument("num_batch_threads must be positive; was " + std::to_string(o.num_batch_threads));
  }
  if (o.num_batch_threads > kMaxBatchThreads) {
    return Status::InvalidArgument("num_batch_threads must be at most " + std::to_string(kMaxBatchThreads) + "; was " +
                                   std::to_string(o.num_batch_threads));
  }
  const auto& allowed = o.allowed_batch_sizes;
  for (size_t i = 1; i < allowed.size(); ++i) {
    if (allowed[i] <= allowed[i - 1]) {
      return Status::InvalidArgument("allowed_batch_sizes entries must be monotonically increasing");
    }
  }
  if (!allowed.empty() && allowed.back() != o.max_batch_size) {
    return Status::InvalidArgument("Last entry in allowed_batch_sizes must match max_batch_size; last entry was " +
                                   std::to_string(allowed.back()) + "; expected " + std::to_string(o.max_batch_size));
  }
  if (o.max_batch_size < 1) {
    return Status::InvalidArgument("input_batch_size_limit must be positive; was " + std::to_string(o.max_batch_size));
  }
  if (o.batch_timeout_micros < 0) {
    return Status::InvalidArgument("batch_timeout_micros must be non-negative; was " +
                                   std::to_string(o.batch_timeout_micros));
  }
  if (o.max_enqueued_batches < 1) {
    return Status::InvalidArgument("max_enqueued_batches must be positive; was " +
                                   std::to_string(o.max_enqueued_batches));
  }
  return Status::Ok();
}

Status BatchingOptionsFromProto(const tensorflow::serving::BatchingParameters& p, BatchingOptions* out) {
  BatchingOptions o;
  if (p.has_max_batch_size()) o.max_batch_size = p.max_batch_size().value();
  if (p.has_batch_timeout_micros()) o.batch_timeout_micros = p.batch_timeout_micros().value();
  if (p.has_max_enqueued_batches()) {
    // TF's AddQueue: "Many existing models (with very low QPS) rely on this
    // option to be >0", so 0 means 1 rather than an error.
    o.max_enqueued_batches = p.max_enqueued_batches().value() == 0 ? 1 : p.max_enqueued_batches().value();
  }
  if (p.has_num_batch_threads()) o.num_batch_threads = p.num_batch_threads().value();
  if (p.has_thread_pool_name()) o.thread_pool_name = p.thread_pool_name().value();
  o.allowed_batch_sizes.assign(p.allowed_batch_sizes().begin(), p.allowed_batch_sizes().end());
  o.pad_variable_length_inputs = p.pad_variable_length_inputs();
  PIPELINE_RETURN_IF_ERROR(CheckBatchingOptions(o));
  *out = std::move(o);
  return Status::Ok();
}

Status ParseBatchingParametersText(const std::string& text, const std::string& file, BatchingOptions* out) {
  tensorflow::serving::BatchingParameters params;
  PIPELINE_RETURN_IF_ERROR(ParseTextProtoFile(
      text, file, "max_batch_size { value: 128 } batch_timeout_micros { value: 1000 } num_batch_threads { value: 4 }",
      &params));
  return BatchingOptionsFromProto(params, out).WithPrefix(file + ": ");
}

std::string DescribeBatchingOptions(const BatchingOptions& o) {
  std::string allowed;
  for (int64_t s : o.allowed_batch_sizes) {
    if (!allowed.empty()) allowed += ',';
    allowed += std::to_string(s);
  }
  return "max_batch_size=" + std::to_string(o.max_batch_size) +
         " batch_timeout_micros=" + std::to_string(o.batch_timeout_micros) +
         " max_enqueued_batches=" + std::to_string(o.max_enqueued_batches) +
         " num_batch_threads=" + std::to_string(o.num_batch_threads) + " thread_pool_name=" + o.thread_pool_name +
         " allowed_batch_sizes=[" + allowed + "] pad_variable_length_inputs=" +
         (o.pad_variable_length_inputs ? "true" : "false");
}

Status ConcatRows(const std::vector<TensorValue>& parts, int64_t padding_rows, TensorValue* out) {
  if (parts.empty()) return Status::Runtime("nothing to concatenate");
  const TensorValue& first = parts.front();
  if (first.rank() < 1) return Status::Runtime("cannot concatenate scalars along dimension 0");
  TensorShape shape = first.shape();
  int64_t rows = 0;
  for (const TensorValue& p : parts) {
    if (p.dtype() != first.dtype() || p.rank() != first.rank() ||
        !std::equal(p.shape().begin() + 1, p.shape().end(), shape.begin() + 1)) {
      return Status::Runtime("cannot concatenate " + DataTypeName(p.dtype()) + " " + ShapeString(p.shape()) +
                             " to " + DataTypeName(first.dtype()) + " " + ShapeString(first.shape()));
    }
    rows += p.dim(0);
  }
  if (padding_rows > 0 && parts.back().dim(0) < 1) return Status::Runtime("no row to pad with");
  if (parts.size() == 1 && padding_rows == 0) {
    *out = first;  // shares its storage: nothing to copy
    return Status::Ok();
  }
  shape[0] = rows + padding_rows;
  const int64_t row_elements = RowElements(shape);
  if (first.dtype() == tensorflow::DT_STRING) {
    std::vector<std::string> values;
    values.reserve(static_cast<size_t>(shape[0] * row_elements));
    for (const TensorValue& p : parts) values.insert(values.end(), p.strings().begin(), p.strings().end());
    const auto& pad = parts.back().strings();
    for (int64_t r = 0; r < padding_rows; ++r) values.insert(values.end(), pad.begin(), pad.begin() + row_elements);
    *out = TensorValue::Strings(std::move(shape), std::move(values));
    return Status::Ok();
  }
  const size_t row_bytes = static_cast<size_t>(row_elements) * DataTypeSize(first.dtype());
  TensorValue merged(first.dtype(), shape);
  char* dst = merged.mutable_raw();
  for (const TensorValue& p : parts) {
    const size_t bytes = static_cast<size_t>(p.dim(0)) * row_bytes;
    if (bytes > 0) std::memcpy(dst, p.raw(), bytes);
    dst += bytes;
  }
  for (int64_t r = 0; r < padding_rows; ++r, dst += row_bytes) {
    if (row_bytes > 0) std::memcpy(dst, parts.back().raw(), row_bytes);
  }
  *out = std::move(merged);
  return Status::Ok();
}

TensorValue SliceRows(const TensorValue& t, int64_t begin, int64_t count) {
  if (begin == 0 && count == t.dim(0)) return t;  // the whole tensor: shared, not copied
  TensorShape shape = t.shape();
  shape[0] = count;
  const int64_t row_elements = RowElements(shape);
  if (t.dtype() == tensorflow::DT_STRING) {
    const auto from = t.strings().begin() + begin * row_elements;
    return TensorValue::Strings(std::move(shape), std::vector<std::string>(from, from + count * row_elements));
  }
  const size_t row_bytes = static_cast<size_t>(row_elements) * DataTypeSize(t.dtype());
  TensorValue slice(t.dtype(), std::move(shape));
  if (count > 0 && row_bytes > 0) {
    std::memcpy(slice.mutable_raw(), t.raw() + static_cast<size_t>(begin) * row_bytes,
                static_cast<size_t>(count) * row_bytes);
  }
  return slice;
}

Status PadToShape(const TensorValue& t, const TensorShape& shape, TensorValue* out) {
  if (t.shape() == shape) {
    *out = t;
    return Status::Ok();
  }
  // TF Serving's PadTensorOfSpecificType and PadTensor, with their texts.
  const int rank = t.rank();
  if (rank < 1 || rank > 6) return Status::InvalidArgument("Only tensors with rank from 1 to 6 can be padded.");
  if (static_cast<int>(shape.size()) != rank || shape[0] != t.dim(0)) {
    return Status::Runtime("cannot pad " + ShapeString(t.shape()) + " to " + ShapeString(shape));
  }
  for (int d = 1; d < rank; ++d) {
    if (shape[static_cast<size_t>(d)] < t.dim(d)) {
      return Status::Runtime("cannot pad " + ShapeString(t.shape()) + " to " + ShapeString(shape));
    }
  }
  if (t.NumElements() < 1) return Status::InvalidArgument("Got empty tensor in batch of non-empty tensors.");
  std::vector<int64_t> in_stride(static_cast<size_t>(rank), 1);
  for (int d = rank - 2; d >= 0; --d) {
    in_stride[static_cast<size_t>(d)] = in_stride[static_cast<size_t>(d) + 1] * t.dim(d + 1);
  }
  const int64_t n = NumElementsOf(shape);
  const bool strings = t.dtype() == tensorflow::DT_STRING;
  const size_t esize = strings ? 0 : DataTypeSize(t.dtype());
  TensorValue padded = strings ? TensorValue::Strings(shape, std::vector<std::string>(static_cast<size_t>(n)))
                               : TensorValue(t.dtype(), shape);
  std::vector<std::string>* dst_strings = strings ? &padded.mutable_strings() : nullptr;
  char* dst_raw = strings ? nullptr : padded.mutable_raw();
  std::vector<int64_t> index(static_cast<size_t>(rank), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;  // the pad value is the tensor's first element
    for (int d = 0; d < rank; ++d) {
      if (index[static_cast<size_t>(d)] >= t.dim(d)) {
        src = 0;
        break;
      }
      src += index[static_cast<size_t>(d)] * in_stride[static_cast<size_t>(d)];
    }
    if (strings) (*dst_strings)[static_cast<size_t>(i)] = t.strings()[static_cast<size_t>(src)];
    else std::memcpy(dst_raw + static_cast<size_t>(i) * esize, t.raw() + static_cast<size_t>(src) * esize, esize);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[static_cast<size_t>(d)] < shape[static_cast<size_t>(d)]) break;
      index[static_cast<size_t>(d)] = 0;
    }
  }
  *out = std::move(padded);
  return Status::Ok();
}

// One caller's run, waiting in a queue. The caller waits on `done`; the batch
// thread fills `status` and `outputs` first.
struct BatchScheduler::Task {
  std::map<std::string, TensorValue> inputs;
  int64_t rows = 0;
  Status status;
  std::map<std::string, TensorValue> outputs;
  std::promise<void> done;
};

struct BatchScheduler::Batch {
  std::vector<std::shared_ptr<Task>> tasks;
  int64_t rows = 0;
};

// The runs of one servable that may share a batch.
struct BatchScheduler::Queue {
  std::string name;               // its key in queues_
  serving::Servable* servable;    // alive while any of its runs waits (see batching.h)
  std::string signature;
  std::vector<std::string> output_aliases;  // sorted; empty: every output
  std::deque<Batch> closed;       // waiting for a thread, oldest first
  Batch open;                     // the one runs join
  Clock::time_point open_start;   // when `open` got its first run
  int in_flight = 0;              // batches of this queue being processed
};

class BatchScheduler::Batcher : public serving::RunBatcher {
 public:
  Batcher(std::shared_ptr<BatchScheduler> scheduler, uint64_t id) : scheduler_(std::move(scheduler)), id_(id) {}
  Status Run(serving::Servable& servable, const std::string& key, const std::map<std::string, TensorValue>& inputs,
             const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs) override {
    return scheduler_->Run(id_, servable, key, inputs, output_aliases, outputs);
  }

 private:
  std::shared_ptr<BatchScheduler> scheduler_;
  uint64_t id_;
};

BatchScheduler::BatchScheduler(BatchingOptions options, Runner runner)
    : options_(std::move(options)), runner_(std::move(runner)) {}

Status BatchScheduler::Create(const BatchingOptions& options, std::shared_ptr<BatchScheduler>* out, Runner runner) {
  PIPELINE_RETURN_IF_ERROR(CheckBatchingOptions(options));
  if (!runner) {
    runner = [](serving::Servable& servable, const std::string& key, const std::map<std::string, TensorValue>& inputs,
                const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs) {
      return servable.RunUnbatched(key, inputs, output_aliases, outputs);
    };
  }
  std::shared_ptr<BatchScheduler> s(new BatchScheduler(options, std::move(runner)));
  try {
    for (int64_t i = 0; i < options.num_batch_threads; ++i) {
      s->threads_.emplace_back([raw = s.get()] { raw->ThreadLoop(); });
      // Named as TF names them ("<thread_pool_name>_"), cut to Linux's 15 bytes.
      const std::string name = (options.thread_pool_name + "_" + std::to_string(i)).substr(0, 15);
      pthread_setname_np(s->threads_.back().native_handle(), name.c_str());
    }
  } catch (const std::system_error& e) {
    s->Stop();
    return Status::Runtime("cannot start " + std::to_string(options.num_batch_threads) + " batch threads: " + e.what());
  }
  *out = std::move(s);
  return Status::Ok();
}

BatchScheduler::~BatchScheduler() { Stop(); }

std::shared_ptr<serving::RunBatcher> BatchScheduler::NewBatcher() {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_batcher_++;
  }
  return std::make_shared<Batcher>(shared_from_this(), id);
}

void BatchScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  std::lock_guard<std::mutex> join_lock(join_mu_);
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

BatchingStats BatchScheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  BatchingStats s = stats_;
  s.queues = static_cast<int64_t>(queues_.size());
  return s;
}

int64_t BatchScheduler::PaddedSize(int64_t rows) const {
  // RoundToLowestAllowedBatchSize: the smallest allowed size that holds the
  // rows (a batch larger than every allowed size, impossible once the last
  // equals max_batch_size, is left as it is).
  for (int64_t size : options_.allowed_batch_sizes)
    if (size >= rows) return size;
  return rows;
}

Status BatchScheduler::Run(uint64_t batcher, serving::Servable& servable, const std::string& key,
                           const std::map<std::string, TensorValue>& inputs,
                           const std::vector<std::string>& output_aliases,
                           std::map<std::string, TensorValue>* outputs) {
  int64_t rows = 0;
  std::string layout;
  const bool batchable = BatchableRun(inputs, options_.pad_variable_length_inputs, &rows, &layout);
  std::string queue_key;
  std::vector<std::string> aliases = output_aliases;
  if (batchable) {
    std::sort(aliases.begin(), aliases.end());
    AppendField(&queue_key, std::to_string(batcher));
    AppendField(&queue_key, std::to_string(reinterpret_cast<uintptr_t>(&servable)));
    AppendField(&queue_key, key);
    for (const std::string& a : aliases) AppendField(&queue_key, a);
    AppendField(&queue_key, layout);
  }
  auto task = std::make_shared<Task>();
  std::future<void> done = task->done.get_future();
  bool run_alone = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!batchable || stopping_) {
      ++stats_.unbatched;
      run_alone = true;
    } else {
      // Queue::ValidateBatchTaskQueueCapacity and ScheduleWithoutOrEagerSplitImpl.
      if (rows > options_.max_batch_size) {
        ++stats_.rejected;
        return Status::InvalidArgument("Task size " + std::to_string(rows) +
                                       " is larger than maximum input batch size " +
                                       std::to_string(options_.max_batch_size));
      }
      std::shared_ptr<Queue>& slot = queues_[queue_key];
      if (!slot) {
        slot = std::make_shared<Queue>();
        slot->name = queue_key;
        slot->servable = &servable;
        slot->signature = key;
        slot->output_aliases = aliases;
      }
      Queue& q = *slot;
      if (!q.open.tasks.empty() && q.open.rows + rows > options_.max_batch_size) {
        const int64_t enqueued_batches = static_cast<int64_t>(q.closed.size()) + 1;  // the open one counts
        if (enqueued_batches >= options_.max_enqueued_batches) {
          ++stats_.rejected;
          return Status::Unavailable(
              "The batch scheduling queue to which this task was submitted is full; currently " +
              std::to_string(enqueued_batches) + " batches enqueued and max_enqueued_batches is " +
              std::to_string(options_.max_enqueued_batches));
        }
        q.closed.push_back(std::move(q.open));
        q.open = Batch();
      }
      if (q.open.tasks.empty()) q.open_start = Clock::now();
      task->inputs = inputs;  // TensorValue copies share storage
      task->rows = rows;
      q.open.tasks.push_back(task);
      q.open.rows += rows;
      ++stats_.enqueued;
    }
  }
  if (run_alone) return runner_(servable, key, inputs, output_aliases, outputs);
  work_cv_.notify_one();
  done.wait();
  *outputs = std::move(task->outputs);
  return task->status;
}

bool BatchScheduler::Schedulable(const Queue& q, Clock::time_point now) const {
  if (!q.closed.empty()) return true;
  if (q.open.tasks.empty()) return false;
  return stopping_ || q.open.rows >= options_.max_batch_size ||
         now >= q.open_start + std::chrono::microseconds(std::min(options_.batch_timeout_micros, kMaxTimeoutMicros));
}

std::shared_ptr<BatchScheduler::Queue> BatchScheduler::NextSchedulable(Clock::time_point now, Clock::time_point* wake) {
  *wake = Clock::time_point::max();
  const auto timeout = std::chrono::microseconds(std::min(options_.batch_timeout_micros, kMaxTimeoutMicros));
  auto it = queues_.upper_bound(cursor_);  // the queue after the one served last
  for (size_t n = 0; n < queues_.size(); ++n, ++it) {
    if (it == queues_.end()) it = queues_.begin();
    const Queue& q = *it->second;
    if (Schedulable(q, now)) {
      cursor_ = it->first;
      return it->second;
    }
    if (!q.open.tasks.empty()) *wake = std::min(*wake, q.open_start + timeout);
  }
  return nullptr;
}

void BatchScheduler::ThreadLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Clock::time_point wake;
    std::shared_ptr<Queue> q = NextSchedulable(Clock::now(), &wake);
    if (q) {
      Batch batch;
      if (!q->closed.empty()) {
        batch = std::move(q->closed.front());
        q->closed.pop_front();
      } else {
        batch = std::move(q->open);
        q->open = Batch();
      }
      ++q->in_flight;
      stats_.enqueued -= static_cast<int64_t>(batch.tasks.size());
      const bool more = stats_.enqueued > 0;
      lock.unlock();
      if (more) work_cv_.notify_one();  // an idle thread takes, or times, what is left
      Process(*q, batch);
      lock.lock();
      continue;
    }
    if (stopping_ && stats_.enqueued == 0) return;
    if (wake == Clock::time_point::max()) work_cv_.wait(lock);
    else work_cv_.wait_until(lock, wake);
  }
}

void BatchScheduler::Process(Queue& q, Batch& batch) {
  const int64_t padding = PaddedSize(batch.rows) - batch.rows;
  Status st;
  // MergeInputTensors: every input alias of the queue's runs, concatenated.
  std::map<std::string, TensorValue> merged;
  for (const auto& [alias, first] : batch.tasks.front()->inputs) {
    std::vector<TensorValue> parts;
    parts.reserve(batch.tasks.size());
    TensorShape widest = first.shape();
    if (options_.pad_variable_length_inputs) {
      for (const auto& task : batch.tasks) {
        const TensorValue& t = task->inputs.at(alias);
        for (int d = 1; d < t.rank(); ++d) {
          widest[static_cast<size_t>(d)] = std::max(widest[static_cast<size_t>(d)], t.dim(d));
        }
      }
    }
    for (const auto& task : batch.tasks) {
      const TensorValue& t = task->inputs.at(alias);
      if (!options_.pad_variable_length_inputs) {
        parts.push_back(t);
        continue;
      }
      TensorShape shape = widest;
      shape[0] = t.dim(0);
      TensorValue padded;
      if (st.ok()) st = PadToShape(t, shape, &padded);
      parts.push_back(std::move(padded));
    }
    if (st.ok()) st = ConcatRows(parts, padding, &merged[alias]);
    if (!st.ok()) break;
  }
  std::map<std::string, TensorValue> outputs;
  if (st.ok()) {
    // An exception (oneDNN's, bad_alloc) must reach the callers as an error,
    // as the request handlers report one thrown in their own thread, not end
    // the batch thread and the process. Corruption: an internal error (500).
    try {
      st = runner_(*q.servable, q.signature, merged, q.output_aliases, &outputs);
    } catch (const std::exception& e) {
      st = Status::Corruption(std::string("internal error: ") + e.what());
    }
  }
  // SplitOutputTensors: each output's 0th dimension must be the batch's rows.
  if (st.ok()) {
    for (const auto& [alias, t] : outputs) {
      if (t.rank() == 0) {
        st = Status::FailedPrecondition("Batched output tensor has 0 dimensions");
        break;
      }
      if (t.dim(0) != batch.rows + padding) {
        st = Status::FailedPrecondition(
            "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension sizes of the input "
            "tensors");
        break;
      }
    }
  }
  int64_t begin = 0;
  for (const auto& task : batch.tasks) {
    if (st.ok()) {
      for (const auto& [alias, t] : outputs) task->outputs[alias] = SliceRows(t, begin, task->rows);
    } else {
      task->status = st;
    }
    begin += task->rows;  // the padding rows, after the last run's, are dropped
  }
  // Everything about this batch is recorded before its callers wake: once
  // they return, the servable may be destroyed, and tests read the counters.
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.runs;
    stats_.tasks += static_cast<int64_t>(batch.tasks.size());
    stats_.rows += batch.rows;
    stats_.padded_rows += padding;
    if (--q.in_flight == 0 && q.closed.empty() && q.open.tasks.empty()) queues_.erase(q.name);
  }
  for (const auto& task : batch.tasks) task->done.set_value();
}

}  // namespace pipeline::server
