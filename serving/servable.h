// The servable: one loaded version of a SavedModel and its signatures, as TF
// Serving keeps it (ServableId {name, version} + a SavedModelBundle). What
// `pipeline predict` and the model server share; it adds to the reader
// (serving/reader.h) the facts both ask of a signature, in one place:
// its warnings, its first input with the graph's dtype, and the class names
// a classify signature's `classes` output draws from.
//
// A signature runs compiled (serving/compiled_signature.h: cached oneDNN
// primitives, concurrent runs, no lock) when its graph allows, else through
// the interpreter, one run at a time. Restore compiles every signature.
//
// Two ways to run a signature:
//   - Servable::Run: the reader's RunSignature, whose errors name the
//     signature ("signature 'k' has no input 'a' (inputs: x)"); `pipeline
//     predict` builds its inputs from the signature and prints these;
//   - serving::Predict (serving/predict_api.h): TF Serving's Predict, which
//     first checks the request as TF Serving does and answers with its texts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/saved_model.pb.h"
#include "serving/compiled_signature.h"
#include "serving/reader.h"
#include "tfformat/tensor_value.h"

namespace pipeline::serving {

// TF Serving's default signature key (kDefaultServingSignatureDefKey).
constexpr char kDefaultSignature[] = "serving_default";

// One input or output of a signature: its alias, the graph tensor it names
// and its dtype (the graph's OpDefs win over the TensorInfo, which can be
// wrong: saved_model_half_plus_three says DT_FLOAT for a DT_STRING input).
struct TensorSpec {
  std::string alias;
  std::string tensor;
  tensorflow::DataType dtype = tensorflow::DT_INVALID;
};

class Servable;

// Where a server's request batching plugs in (TF Serving's BatchingSession
// wraps the Session the same way): Servable::Run hands every run to the
// batcher, which merges concurrent runs of one signature along dimension 0,
// runs the merged inputs once through Servable::RunUnbatched and hands each
// caller its rows of the outputs.
class RunBatcher {
 public:
  virtual ~RunBatcher() = default;
  virtual Status Run(Servable& servable, const std::string& key, const std::map<std::string, TensorValue>& inputs,
                     const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs) = 0;
};

class Servable {
 public:
  // Parses and checks DIR (SavedModelReader::Open): no graph execution, so
  // a caller can look at the signatures before paying for the restore.
  // `name` is the model name a server serves it under ("" for the CLI);
  // the version is DIR's last component when it is a version number
  // (TF Serving's rule, common/version_number.h), else -1.
  static Status Open(const std::string& dir, const ReaderOptions& options, const std::string& name,
                     std::unique_ptr<Servable>* out);
  // Restores the variables and runs the init op (SavedModelReader::Restore),
  // then compiles every signature that can be.
  Status Restore();
  // Open + Restore: what a server does to make a version available.
  static Status Load(const std::string& dir, const ReaderOptions& options, const std::string& name,
                     std::unique_ptr<Servable>* out);

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& dir() const { return reader_->dir(); }

  std::vector<std::string> SignatureKeys() const { return reader_->SignatureKeys(); }  // sorted
  const tensorflow::SignatureDef* FindSignature(const std::string& key) const { return reader_->FindSignature(key); }

  // The reader's warnings that concern signature `key`: the model-wide ones
  // and those naming `key` (not those of the other signatures), in order.
  std::vector<std::string> Warnings(const std::string& key) const;

  // The first input of signature `key` by alias order (the one a
  // single-input run feeds), its dtype the graph's. InvalidArgument for
  // an unknown key; Runtime "signature 'k' has no inputs" when it has none.
  Status FirstInput(const std::string& key, TensorSpec* spec) const;
  // Every input of signature `key` by alias, with the graph's dtype (as
  // FirstInput gives it); false for an unknown key.
  bool InputDtypes(const std::string& key, std::map<std::string, tensorflow::DataType>* dtypes) const;

  // The class names a classify signature returns, by label index: the string
  // values of an index->string table initialized from constants (how
  // pipeline exports class_names). Empty when the graph has none;
  // TensorFlow's tutorial builds its keys with Range, and its names are the
  // digits themselves. Computed once, on first use.
  const std::vector<std::string>& ClassNames();

  // Runs signature `key` on `inputs` (by input alias); outputs by output
  // alias (`output_aliases` empty = every output). SavedModelReader::
  // RunSignature's checks and errors; see serving::Predict for TF Serving's.
  // Thread-safe: compiled runs go concurrently; interpreter runs of one
  // servable take turns (its kernels share one oneDNN stream and the graph's
  // state). With a batcher set, the run goes through it (see RunBatcher).
  Status Run(const std::string& key, const std::map<std::string, TensorValue>& inputs,
             const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs);
  // Run without the batcher: what the batcher calls with merged inputs.
  Status RunUnbatched(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                      const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs);
  // The interpreter alone, whatever compiled: the reference the compiled
  // path is tested against.
  Status RunInterpreted(const std::string& key, const std::map<std::string, TensorValue>& inputs,
                        const std::vector<std::string>& output_aliases, std::map<std::string, TensorValue>* outputs);
  // How signature `key` runs: "compiled: MatMul 784x256 + BiasAdd, Relu, ..."
  // or "interpreter: <why it did not compile>".
  std::string ExecutionPath(const std::string& key) const;
  // The compiled form of signature `key`, or nullptr.
  const CompiledSignature* Compiled(const std::string& key) const;
  // Set before the servable takes traffic (not thread-safe against Run).
  void set_batcher(std::shared_ptr<RunBatcher> batcher) { batcher_ = std::move(batcher); }

  SavedModelReader& reader() { return *reader_; }
  const SavedModelReader& reader() const { return *reader_; }

 private:
  Servable() = default;
  std::unique_ptr<SavedModelReader> reader_;
  std::string name_;
  int64_t version_ = -1;
  std::mutex run_mu_;  // one interpreter run at a time (see Run)
  std::shared_ptr<RunBatcher> batcher_;
  std::map<std::string, std::unique_ptr<CompiledSignature>> compiled_;  // by signature key
  std::map<std::string, std::string> not_compiled_;                     // key -> why
  bool class_names_done_ = false;
  std::vector<std::string> class_names_;
};

// ClassNames' rule on a GraphDef (exposed for tests and tools).
std::vector<std::string> TableClassNames(const tensorflow::GraphDef& graph);

}  // namespace pipeline::serving
