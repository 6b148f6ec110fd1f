// pipeline bench CONFIG: training speed against the machine's GEMM floor and
// the PyTorch peer, measured in one run; inference throughput; peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "bench/gemm_rate.h"
#include "bench/inference.h"
#include "bench/peer.h"
#include "bench/training_run.h"
#include "cli/command.h"
#include "common/json.h"
#include "common/strings.h"
#include "config/loader.h"
#include "engine/runtime.h"

namespace pipeline::cli {

extern const char kBenchUsage[] =
    "usage: pipeline bench CONFIG [KEY=VALUE ...] [--epochs N] [--threads T] [--peer NAME[,NAME...]|off]\n"
    "                      [--gemm-seconds S] [--no-inference] [--json FILE]\n\n"
    "Trains CONFIG for N epochs (default 5) after one warm-up epoch, on T threads (default: the\n"
    "cores), and in the same run measures oneDNN's sgemm on the exact GEMM shapes of a training\n"
    "step and on a 2048^3 GEMM, runs the peers (bench/peers/ of the source tree: torch-pip = PyTorch 2.13 and\n"
    "keras = TF 2.21 model.fit, faster of jit_compile off/on, from .venv or PIPELINE_VENV; torch-debian =\n"
    "Debian's python3-torch; default: all, a missing one is reported as not run) on the same data, epochs,\n"
    "batch size and threads, and times inference at batch 1, 100 and 10000.\n"
    "Prints a table, the ratios ours/peer for each peer and ours/GEMM-only, and a final `JSON {...}` line.\n"
    "A config with a conv2d layer is a CNN: the peers train configs/fashion_cnn.yaml's network (torch_cnn.py,\n"
    "keras_cnn.py) and the floor is oneDNN's own primitives for the network's step in blocked layouts\n"
    "(targets: ours <= 0.5x the fastest peer, <= 1.5x the floor; the MLP's: 0.4x, 1.4x GEMM-only).\n";

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? NAN : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

double Min(const std::vector<double>& v) { return v.empty() ? NAN : *std::min_element(v.begin(), v.end()); }

double PeakRssMb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::string Ratio(double v, double target) {
  return std::isfinite(v) ? fmt::format("{:.2f} (target <= {:.2f}: {})", v, target, v <= target ? "met" : "NOT met")
                          : "n/a";
}

// What bench measured, for the table and the JSON line.
struct BenchResults {
  std::string config;
  bool cnn = false;  // a conv2d layer: CNN peers, and the primitive floor instead of GEMM-only
  int threads = 0, epochs = 0;
  int64_t batch_size = 0, examples = 0;
  double rss_mb = NAN, flops_per_epoch = NAN;
  std::vector<double> ours;                                // timed epochs' seconds (after the warm-up)
  double our_median = NAN, our_min = NAN;
  size_t gemm_shapes = 0;
  double sgemm = NAN, matmul = NAN, large = NAN, gemm_only = NAN;  // gemm_only: the CNN's primitive floor
  double floor_step = NAN;                                          // CNN: the floor's seconds per step
  struct Peer {
    std::string name, note;         // note: why it did not run
    bench::PeerRun run;
    std::vector<double> epochs;     // timed epochs (after the warm-up)
    double median = NAN, min = NAN;
  };
  std::vector<Peer> peers;
  std::vector<std::pair<int64_t, double>> engine_rates, predict_rates;
  std::string inference_note;
};

// 2. The machine: oneDNN GEMMs on the exact shapes of a training step.
void MeasureGemms(const bench::TrainingRun& run, int threads, double gemm_seconds, BenchResults* r) {
  if (r->cnn) {
    // A conv is no GEMM of these shapes: the floor is the step's own primitives.
    const int64_t batch = run.config().train.batch_size;
    r->floor_step = bench::CnnStepFloorSeconds(run.model(), batch, threads, gemm_seconds);
    r->large = bench::SgemmRate({{'N', 'N', 2048, 2048, 2048}}, threads, gemm_seconds);
    r->gemm_only = r->floor_step * static_cast<double>((r->examples + batch - 1) / batch);
    return;
  }
  const auto shapes = bench::TrainingGemms(run.model(), run.config().train.batch_size);
  r->gemm_shapes = shapes.size();
  r->sgemm = bench::SgemmRate(shapes, threads, gemm_seconds);
  r->matmul = bench::MatmulPrimitiveRate(shapes, threads, gemm_seconds);
  r->large = bench::SgemmRate({{'N', 'N', 2048, 2048, 2048}}, threads, gemm_seconds);
  r->gemm_only = r->flops_per_epoch / (r->sgemm * 1e9);
}

// 3. The peers, same data, epochs, batch size and threads.
// --peer NAME[,NAME...] | off: the peers to run (default: all), in KnownPeers'
// order; checked before anything runs.
Status SelectPeers(const std::string& peer_option, bool cnn, std::vector<bench::PeerSpec>* out) {
  const std::vector<bench::PeerSpec> known = bench::KnownPeers(cnn);
  out->clear();
  if (peer_option == "off") return Status::Ok();
  if (peer_option.empty()) {
    *out = known;
    return Status::Ok();
  }
  std::vector<std::string> wanted, names;
  for (size_t start = 0;;) {
    const size_t comma = peer_option.find(',', start);
    wanted.push_back(peer_option.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const auto& p : known) names.push_back(p.name);
  for (const auto& w : wanted) {
    if (std::find(names.begin(), names.end(), w) == names.end()) {
      return Status::InvalidArgument("--peer: unknown peer '" + w + "' (known peers: " + Join(names, ", ") + ", or off)");
    }
  }
  for (const auto& p : known)
    if (std::find(wanted.begin(), wanted.end(), p.name) != wanted.end()) out->push_back(p);
  return Status::Ok();
}

void RunPeers(const std::vector<bench::PeerSpec>& peers, const PipelineConfig& cfg, int threads, int epochs,
              BenchResults* r) {
  for (const auto& spec : peers) {
    BenchResults::Peer p;
    p.name = spec.name;
    Status ps = bench::RunPeer(spec, {cfg.dataset.path, threads, epochs + 1, cfg.train.batch_size,
                                      cfg.optimizer.learning_rate, r->examples},
                               &p.run);
    if (ps.ok()) {
      p.epochs.assign(p.run.epoch_seconds.begin() + 1, p.run.epoch_seconds.end());
    } else {
      p.note = ps.message();
    }
    p.median = Median(p.epochs);
    p.min = Min(p.epochs);
    r->peers.push_back(std::move(p));
  }
}

// The peer with the lowest median among those that ran; nullptr if none ran.
const BenchResults::Peer* FastestPeer(const BenchResults& r) {
  const BenchResults::Peer* best = nullptr;
  for (const auto& p : r.peers)
    if (std::isfinite(p.median) && (best == nullptr || p.median < best->median)) best = &p;
  return best;
}

// 4. Inference throughput: the engine's forward pass, and the interpreter on an export.
void MeasureInference(const bench::TrainingRun& run, BenchResults* r) {
  const Split& test = run.test();
  for (int64_t b : {1, 100, 10000})
    r->engine_rates.push_back({b, bench::EngineInferenceRate(run.model(), test, run.scale(), b, b == 1 ? 2000 : 10000)});
  const std::string dir = (std::filesystem::temp_directory_path() / ("pipeline-bench-" + std::to_string(::getpid()))).string();
  ExportResult exported;
  Status es = run.ExportTo(dir, "1", &exported);
  for (int64_t b : {1, 100, 10000}) {
    double rate = NAN;
    if (es.ok()) es = bench::PredictRate(exported.version_dir, "predict_images", test, run.scale(), b,
                                         b == 1 ? 500 : 10000, &rate);
    r->predict_rates.push_back({b, rate});
  }
  if (!es.ok()) r->inference_note = es.message();
  std::filesystem::remove_all(dir);
}

// 5. Report: the table.
void PrintTable(const BenchResults& r) {
  const double ratio_gemm = r.our_median / r.gemm_only;
  const double peer_target = r.cnn ? 0.5 : 0.4, floor_target = r.cnn ? 1.5 : 1.4;
  std::printf("\n%-34s %s\n", "", "value");
  if (r.cnn) {
    std::printf("%-34s %.1f GFLOP/s\n", "machine: sgemm 2048^3", r.large);
    std::printf("%-34s %.3f s/epoch (%.2f ms a step: oneDNN primitives alone, layouts of its choice)\n", "floor time",
                r.gemm_only, r.floor_step * 1e3);
  } else {
    std::printf("%-34s %.1f GFLOP/s (dnnl_sgemm, %zu GEMMs of a batch-%lld step)\n", "machine: sgemm, exact shapes",
                r.sgemm, r.gemm_shapes, static_cast<long long>(r.batch_size));
    std::printf("%-34s %.1f GFLOP/s (same shapes as matmul primitives)\n", "machine: matmul primitives", r.matmul);
    std::printf("%-34s %.1f GFLOP/s\n", "machine: sgemm 2048^3", r.large);
    std::printf("%-34s %.3f s/epoch (%.1f GFLOP / sgemm rate)\n", "GEMM-only time", r.gemm_only, r.flops_per_epoch / 1e9);
  }
  std::printf("%-34s median %.3f  min %.3f s/epoch, %.0f examples/s, %.1f GFLOP/s\n", "ours: training", r.our_median,
              r.our_min, r.examples / r.our_median, r.flops_per_epoch / r.our_median / 1e9);
  std::printf("%-34s %.0f MB\n", "ours: peak RSS", r.rss_mb);
  if (r.peers.empty()) std::printf("%-34s none (--peer off)\n", "peers");
  for (const auto& p : r.peers) {
    const std::string label = "peer " + p.name;
    if (p.epochs.empty()) {
      std::printf("%-34s not run: %s\n", label.c_str(), p.note.c_str());
      continue;
    }
    std::printf("%-34s median %.3f  min %.3f s/epoch, test accuracy %.4f (%s)\n", label.c_str(), p.median, p.min,
                p.run.test_accuracy, p.run.framework.c_str());
    std::printf("%-34s %.2f\n", ("  ratio ours/" + p.name + " s/epoch").c_str(), r.our_median / p.median);
  }
  const BenchResults::Peer* fastest = FastestPeer(r);
  std::printf("%-34s %s%s\n", "ratio ours/fastest peer s/epoch",
              Ratio(r.our_median / (fastest ? fastest->median : NAN), peer_target).c_str(),
              fastest ? (" (" + fastest->name + ")").c_str() : "");
  std::printf("%-34s %s\n", r.cnn ? "ratio ours/floor" : "ratio ours/GEMM-only", Ratio(ratio_gemm, floor_target).c_str());
  if (fastest != nullptr) {
    // The best `ours/fastest peer` any engine on these primitives could show:
    // the floor is their time alone, before anything else a step does.
    const double bound = r.gemm_only / fastest->median;
    std::printf("%-34s %.2f (%s)\n", r.cnn ? "ratio floor/fastest peer" : "ratio GEMM-only/fastest peer", bound,
                bound > peer_target ? fmt::format("above the {:.2f} target: the primitives alone miss it", peer_target).c_str()
                                    : fmt::format("within the {:.2f} target", peer_target).c_str());
  }
  for (size_t i = 0; i < r.engine_rates.size(); ++i) {
    std::printf("%-34s %.0f examples/s (engine forward) | %.0f examples/s (predict, interpreter)\n",
                fmt::format("inference batch {}", r.engine_rates[i].first).c_str(), r.engine_rates[i].second,
                r.predict_rates[i].second);
  }
  if (!r.inference_note.empty()) std::printf("inference note: %s\n", r.inference_note.c_str());
}

// 5. Report: the final `JSON {...}` line.
std::string JsonLine(const BenchResults& r) {
  const BenchResults::Peer* fastest = FastestPeer(r);
  const double fastest_median = fastest ? fastest->median : NAN;
  const double ratio_peer = r.our_median / fastest_median, ratio_gemm = r.our_median / r.gemm_only;
  auto list = [](const std::vector<double>& v) {
    std::vector<std::string> s;
    for (double x : v) s.push_back(json::Number(x));
    return json::Array(s);
  };
  json::Object j;
  j.Str("config", r.config).Str("mode", r.cnn ? "cnn" : "mlp").Int("threads", r.threads).Int("epochs", r.epochs).Int("batch_size", r.batch_size)
      .Num("sgemm_gflops", r.sgemm).Num("matmul_gflops", r.matmul).Num("large_sgemm_gflops", r.large)
      .Num("gemm_only_s_per_epoch", r.gemm_only).Num("ours_median_s_per_epoch", r.our_median)
      .Num("ours_min_s_per_epoch", r.our_min).Raw("ours_epoch_seconds", list(r.ours))
      .Num("ours_examples_per_s", r.examples / r.our_median).Num("ours_gflops", r.flops_per_epoch / r.our_median / 1e9)
      .Num("peak_rss_mb", r.rss_mb).Str("fastest_peer", fastest ? fastest->name : "")
      .Num("fastest_peer_median_s_per_epoch", fastest_median).Num("ratio_ours_over_fastest_peer", ratio_peer)
      .Num("ratio_ours_over_gemm_only", ratio_gemm).Num("ratio_gemm_only_over_fastest_peer", r.gemm_only / fastest_median)
      .Num("floor_step_seconds", r.floor_step);
  std::vector<std::string> peers;
  for (const auto& p : r.peers) {
    json::Object o;
    o.Str("name", p.name).Str("framework", p.run.framework).Str("not_run", p.note).Num("median_s_per_epoch", p.median)
        .Num("min_s_per_epoch", p.min).Raw("epoch_seconds", list(p.epochs)).Num("test_accuracy", p.run.test_accuracy)
        .Num("ratio_ours_over_peer", r.our_median / p.median);
    peers.push_back(o.str());
  }
  j.Raw("peers", json::Array(peers));
  for (size_t i = 0; i < r.engine_rates.size(); ++i) {
    j.Num(fmt::format("engine_inference_b{}_per_s", r.engine_rates[i].first), r.engine_rates[i].second);
    j.Num(fmt::format("predict_b{}_per_s", r.predict_rates[i].first), r.predict_rates[i].second);
  }
  return j.str();
}

}  // namespace

int BenchCommand(const std::vector<std::string>& args) {
  CommonArgs a;
  if (!ParseCommon(args, {"--epochs", "--threads", "--peer", "--json", "--gemm-seconds"}, {"--no-inference"}, &a))
    return 2;
  const int epochs = Option(a, "--epochs").empty() ? 5 : std::atoi(Option(a, "--epochs").c_str());
  const int threads = ResolveThreads(Option(a, "--threads").empty() ? 0 : std::atoi(Option(a, "--threads").c_str()));
  const double gemm_seconds = Option(a, "--gemm-seconds").empty() ? 2.0 : std::atof(Option(a, "--gemm-seconds").c_str());
  if (epochs < 1 || threads < 1 || gemm_seconds <= 0) {
    std::fprintf(stderr, "--epochs, --threads and --gemm-seconds must be positive\n");
    return 2;
  }
  // Warm-up epoch + N timed; no validation pass; no export.
  a.overrides.push_back("train.epochs=" + std::to_string(epochs + 1));
  a.overrides.push_back("train.threads=" + std::to_string(threads));
  a.overrides.push_back("dataset.validation.count=0");
  a.overrides.push_back("stages=[load,build,train]");
  PipelineConfig cfg;
  Status st = LoadConfig(a.config, a.overrides, &cfg);
  if (!st.ok()) return Fail(st);
  const bool cnn = std::any_of(cfg.model.layers.begin(), cfg.model.layers.end(),
                               [](const LayerConfig& l) { return l.type == "conv2d"; });
  std::vector<bench::PeerSpec> peers;
  st = SelectPeers(Option(a, "--peer"), cnn, &peers);
  if (!st.ok()) return Fail(st);
  Logger log(stdout, Logger::Level::kQuiet);
  std::printf("pipeline bench: %s (%s), %d thread(s), %d timed epoch(s) after 1 warm-up\n", a.config.c_str(),
              cnn ? "CNN" : "MLP", threads, epochs);
  std::fflush(stdout);

  // 1. Ours.
  std::unique_ptr<bench::TrainingRun> run;
  st = bench::TrainingRun::Train(cfg, &log, &run);
  if (!st.ok()) return Fail(st);
  BenchResults r;
  r.config = a.config;
  r.cnn = cnn;
  r.threads = threads;
  r.epochs = epochs;
  r.batch_size = cfg.train.batch_size;
  r.rss_mb = PeakRssMb();
  const std::vector<double> seconds = run->EpochSeconds();
  if (seconds.size() > 1) r.ours.assign(seconds.begin() + 1, seconds.end());
  r.examples = run->train_examples();
  r.flops_per_epoch = static_cast<double>(run->model().TrainingFlopsPerExample()) * r.examples;
  r.our_median = Median(r.ours);
  r.our_min = Min(r.ours);

  MeasureGemms(*run, threads, gemm_seconds, &r);
  RunPeers(peers, cfg, threads, epochs, &r);
  if (!Flag(a, "--no-inference")) MeasureInference(*run, &r);

  PrintTable(r);
  const std::string line = JsonLine(r);
  std::printf("JSON %s\n", line.c_str());
  if (!Option(a, "--json").empty()) {
    if (FILE* f = std::fopen(Option(a, "--json").c_str(), "w")) {
      std::fprintf(f, "%s\n", line.c_str());
      std::fclose(f);
    }
  }
  return 0;
}

}  // namespace pipeline::cli
