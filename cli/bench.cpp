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
#include "cli/command.h"
#include "common/json.h"
#include "config/loader.h"
#include "engine/runtime.h"
#include "stages/model_spec.h"
#include "stages/stage.h"

namespace pipeline::cli {

extern const char kBenchUsage[] =
    "usage: pipeline bench CONFIG [KEY=VALUE ...] [--epochs N] [--threads T] [--peer PATH|off]\n"
    "                      [--gemm-seconds S] [--no-inference] [--json FILE]\n\n"
    "Trains CONFIG for N epochs (default 5) after one warm-up epoch, on T threads (default: the\n"
    "cores), and in the same run measures oneDNN's sgemm on the exact GEMM shapes of a training\n"
    "step and on a 2048^3 GEMM, runs the PyTorch peer (default: bench/peers/torch_mlp.py of the source tree) on the\n"
    "same data, epochs, batch size and threads, and times inference at batch 1, 100 and 10000.\n"
    "Prints a table, the ratios ours/peer and ours/GEMM-only, and a final `JSON {...}` line.\n";

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
  Context ctx;
  Status st = LoadConfig(a.config, a.overrides, &ctx.config);
  if (!st.ok()) return Fail(st);
  Logger log(stdout, Logger::Level::kQuiet);
  ctx.log = &log;
  const PipelineConfig& cfg = ctx.config;
  std::printf("pipeline bench: %s, %d thread(s), %d timed epoch(s) after 1 warm-up\n", a.config.c_str(), threads, epochs);
  std::fflush(stdout);

  // 1. Ours.
  st = RunStages(cfg.stages, ctx);
  if (!st.ok()) return Fail(st);
  const double rss_mb = PeakRssMb();
  std::vector<double> ours;
  for (size_t i = 1; i < ctx.metrics.epochs.size(); ++i) ours.push_back(ctx.metrics.epochs[i].seconds);
  const int64_t examples = ctx.dataset->train.count;
  const double flops_per_epoch = static_cast<double>(ctx.model->TrainingFlopsPerExample()) * examples;
  const double our_median = Median(ours), our_min = Min(ours);

  // 2. The machine: oneDNN GEMMs on the exact shapes of a training step.
  const auto shapes = bench::TrainingGemms(*ctx.model, cfg.train.batch_size);
  const double sgemm = bench::SgemmRate(shapes, threads, gemm_seconds);
  const double matmul = bench::MatmulPrimitiveRate(shapes, threads, gemm_seconds);
  const double large = bench::SgemmRate({{'N', 'N', 2048, 2048, 2048}}, threads, gemm_seconds);
  const double gemm_only = flops_per_epoch / (sgemm * 1e9);

  // 3. The peer, same data, epochs, batch size and threads.
  bench::PeerRun peer;
  std::string peer_note;
  const std::string peer_script = Option(a, "--peer").empty() ? bench::DefaultPeerScript() : Option(a, "--peer");
  std::vector<double> peer_epochs;
  if (peer_script != "off") {
    if (!std::filesystem::exists(peer_script)) {
      peer_note = "peer script " + peer_script + " not found";
    } else {
      Status ps = bench::RunPeer({peer_script, cfg.dataset.path, threads, epochs + 1, cfg.train.batch_size,
                                  cfg.optimizer.learning_rate},
                                 &peer);
      if (ps.ok()) {
        peer_epochs.assign(peer.epoch_seconds.begin() + 1, peer.epoch_seconds.end());
      } else {
        peer_note = ps.message();
      }
    }
  } else {
    peer_note = "--peer off";
  }
  const double peer_median = Median(peer_epochs), peer_min = Min(peer_epochs);

  // 4. Inference throughput.
  std::vector<std::pair<int64_t, double>> engine_rates, predict_rates;
  std::string inference_note;
  if (!Flag(a, "--no-inference")) {
    const Split& test = ctx.dataset->test;
    for (int64_t b : {1, 100, 10000})
      engine_rates.push_back({b, bench::EngineInferenceRate(*ctx.model, test, ctx.dataset->scale, b, b == 1 ? 2000 : 10000)});
    const std::string dir = (std::filesystem::temp_directory_path() / ("pipeline-bench-" + std::to_string(::getpid()))).string();
    ExportRequest request = ToExportRequest(cfg, *ctx.model);
    request.options.path = dir;
    request.options.version = "1";
    ExportResult exported;
    Status es = ExportSavedModel(request, &exported);
    for (int64_t b : {1, 100, 10000}) {
      double rate = NAN;
      if (es.ok()) es = bench::PredictRate(exported.version_dir, "predict_images", test, ctx.dataset->scale, b,
                                           b == 1 ? 500 : 10000, &rate);
      predict_rates.push_back({b, rate});
    }
    if (!es.ok()) inference_note = es.message();
    std::filesystem::remove_all(dir);
  }

  // 5. Report.
  const double ratio_peer = our_median / peer_median, ratio_gemm = our_median / gemm_only;
  std::printf("\n%-34s %s\n", "", "value");
  std::printf("%-34s %.1f GFLOP/s (dnnl_sgemm, %zu GEMMs of a batch-%lld step)\n", "machine: sgemm, exact shapes",
              sgemm, shapes.size(), static_cast<long long>(cfg.train.batch_size));
  std::printf("%-34s %.1f GFLOP/s (same shapes as matmul primitives)\n", "machine: matmul primitives", matmul);
  std::printf("%-34s %.1f GFLOP/s\n", "machine: sgemm 2048^3", large);
  std::printf("%-34s %.3f s/epoch (%.1f GFLOP / sgemm rate)\n", "GEMM-only time", gemm_only, flops_per_epoch / 1e9);
  std::printf("%-34s median %.3f  min %.3f s/epoch, %.0f examples/s, %.1f GFLOP/s\n", "ours: training", our_median,
              our_min, examples / our_median, flops_per_epoch / our_median / 1e9);
  std::printf("%-34s %.0f MB\n", "ours: peak RSS", rss_mb);
  if (peer_epochs.empty()) {
    std::printf("%-34s none: %s\n", "peer", peer_note.c_str());
  } else {
    std::printf("%-34s median %.3f  min %.3f s/epoch (%s)\n", "peer: torch training", peer_median, peer_min,
                peer.framework.c_str());
  }
  std::printf("%-34s %s\n", "ratio ours/peer s/epoch", Ratio(ratio_peer, 0.4).c_str());
  std::printf("%-34s %s\n", "ratio ours/GEMM-only", Ratio(ratio_gemm, 1.4).c_str());
  for (size_t i = 0; i < engine_rates.size(); ++i) {
    std::printf("%-34s %.0f examples/s (engine forward) | %.0f examples/s (predict, interpreter)\n",
                fmt::format("inference batch {}", engine_rates[i].first).c_str(), engine_rates[i].second,
                predict_rates[i].second);
  }
  if (!inference_note.empty()) std::printf("inference note: %s\n", inference_note.c_str());

  auto list = [](const std::vector<double>& v) {
    std::vector<std::string> s;
    for (double x : v) s.push_back(json::Number(x));
    return json::Array(s);
  };
  json::Object j;
  j.Str("config", a.config).Int("threads", threads).Int("epochs", epochs).Int("batch_size", cfg.train.batch_size)
      .Num("sgemm_gflops", sgemm).Num("matmul_gflops", matmul).Num("large_sgemm_gflops", large)
      .Num("gemm_only_s_per_epoch", gemm_only).Num("ours_median_s_per_epoch", our_median)
      .Num("ours_min_s_per_epoch", our_min).Raw("ours_epoch_seconds", list(ours))
      .Num("ours_examples_per_s", examples / our_median).Num("ours_gflops", flops_per_epoch / our_median / 1e9)
      .Num("peak_rss_mb", rss_mb).Num("peer_median_s_per_epoch", peer_median).Num("peer_min_s_per_epoch", peer_min)
      .Raw("peer_epoch_seconds", list(peer_epochs)).Num("ratio_ours_over_peer", ratio_peer)
      .Num("ratio_ours_over_gemm_only", ratio_gemm);
  for (size_t i = 0; i < engine_rates.size(); ++i) {
    j.Num(fmt::format("engine_inference_b{}_per_s", engine_rates[i].first), engine_rates[i].second);
    j.Num(fmt::format("predict_b{}_per_s", predict_rates[i].first), predict_rates[i].second);
  }
  const std::string line = j.str();
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
