// Registries that own their names, as Caffe keeps them: an optimizer, layer,
// initializer, activation or schedule registers itself in its own .cpp file
//
//   PIPELINE_REGISTER(OptimizerRegistry, adam, 2, NewAdam);
//
// and every list of names (config enums, "known types" in errors, docs) is
// read back from here. The engine library is linked whole-archive
// (CMakeLists.txt) so that a registering file nobody calls is still linked.
//
// `rank` orders the names as the config documents them and as its error
// messages list them ("allowed: sgd, momentum, adam, rmsprop"); engine errors
// list them alphabetically ("known types: adam, momentum, rmsprop, sgd").
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pipeline {

// The names of every kind ("optimizer", "layer", ...), without their factories,
// for code that must not depend on what is registered (config/).
class NameRegistry {
 public:
  static void Add(const std::string& kind, const std::string& name, int rank) {
    auto& v = Kinds()[kind];
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return e.second == name; }), v.end());
    v.emplace_back(rank, name);
    std::sort(v.begin(), v.end());
  }
  // In rank order (ties by name); empty for a kind nothing registered.
  static std::vector<std::string> Names(const std::string& kind) {
    std::vector<std::string> out;
    auto it = Kinds().find(kind);
    if (it != Kinds().end())
      for (const auto& [rank, name] : it->second) out.push_back(name);
    return out;
  }

 private:
  static std::map<std::string, std::vector<std::pair<int, std::string>>>& Kinds() {
    static std::map<std::string, std::vector<std::pair<int, std::string>>> kinds;
    return kinds;
  }
};

// A registry of `Entry` values (factories, tables) by name. `Tag` supplies the
// kind: struct OptimizerTag { static constexpr const char* kKind = "optimizer"; }.
template <class Tag, class Entry>
class Registry {
 public:
  static bool Add(const std::string& name, int rank, Entry entry) {
    Entries()[name] = std::move(entry);
    NameRegistry::Add(Tag::kKind, name, rank);
    return true;
  }
  static const Entry* Find(const std::string& name) {
    auto it = Entries().find(name);
    return it == Entries().end() ? nullptr : &it->second;
  }
  // Alphabetical.
  static std::vector<std::string> Names() {
    std::vector<std::string> out;
    for (const auto& [name, entry] : Entries()) out.push_back(name);
    return out;
  }

 private:
  static std::map<std::string, Entry>& Entries() {
    static std::map<std::string, Entry> entries;
    return entries;
  }
};

#define PIPELINE_REGISTRY_CONCAT_(a, b) a##b
#define PIPELINE_REGISTRY_CONCAT(a, b) PIPELINE_REGISTRY_CONCAT_(a, b)
// Registers `entry` under the identifier-like `name` at static initialization.
#define PIPELINE_REGISTER(RegistryType, name, rank, entry)                                    \
  static const bool PIPELINE_REGISTRY_CONCAT(pipeline_registered_, PIPELINE_REGISTRY_CONCAT(name, __LINE__)) = \
      RegistryType::Add(#name, rank, entry)

}  // namespace pipeline
