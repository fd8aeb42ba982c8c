// data/dataset.hpp — labelled uint8 images in memory, their subsets, and batches as tensors.
//
// A Dataset is a cheap handle: the pixels live once in shared, immutable storage, the labels in a
// shared table by loaded row, and each Dataset holds the list of example rows it sees. Subsets
// (limit, subset, split) therefore copy indices, never pixels; a relabelled copy (with_labels, e.g.
// for label noise: data/noise.hpp) copies the label table once, so its subsets and restored rows
// (with_rows) keep the new labels. Images stay uint8 until a batch is asked for; batch() converts just
// those examples to Float32 in [0, 1] (pixel / 255, as torchvision's ToTensor does).
//
// A DataLoader walks a Dataset in batches, one epoch per begin(): with shuffling on, every epoch
// draws a fresh permutation from a Generator the loader owns, so a seed fixes every epoch's order.
// Its state (state_dict: the generator, this epoch's order, the batches handed out so far, and
// the dataset's rows) goes into a training checkpoint (training/checkpoint.hpp); after
// load_state_dict of a state taken mid-epoch, the next begin() continues that epoch at the next
// batch instead of starting a new one, so a resumed run sees exactly the batches of an
// uninterrupted one. A split's state (its two datasets' rows) is saved and restored the same way.
// For data-parallel training each process makes a loader with the same seed and batch size (the
// global batch) and its own shard: every shard draws the same permutation, and each batch is
// split into `shards` contiguous parts whose sizes differ by at most one (shard_range), so the
// processes together see exactly the batches one process would, the last partial one included.
//
// Dimension legend: N examples, B examples in a batch, H × W pixels per image, K classes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "../core/generator.hpp"
#include "../core/named_tensors.hpp"
#include "../core/tensor.hpp"

namespace humble::data {

enum class ImageLayout {
  Flat,  // (B, H·W): for fully connected models
  NCHW,  // (B, 1, H, W): one channel, for convolutional models
};

struct Batch {
  Tensor images;  // Float32 in [0, 1], (B, H·W) or (B, 1, H, W)
  Tensor labels;  // Int64 in [0, K), (B)
};

class Dataset {
 public:
  // `pixels` holds labels.size() images of shape `image_shape`, row-major; every label is in
  // [0, num_classes). Throws ShapeError / ValueError otherwise.
  Dataset(std::vector<uint8_t> pixels, Shape image_shape, std::vector<int64_t> labels, int64_t num_classes);

  int64_t size() const { return static_cast<int64_t>(rows_.size()); }
  const Shape& image_shape() const { return examples_->image_shape; }  // (H, W)
  int64_t num_classes() const { return examples_->num_classes; }
  int64_t label(int64_t index) const;

  // Examples at `indices` (positions in this dataset, each in [0, size())), converted to tensors;
  // no indices give tensors of 0 rows.
  Batch batch(std::span<const int64_t> indices, ImageLayout layout = ImageLayout::Flat) const;

  Dataset subset(std::span<const int64_t> indices) const;  // the examples at `indices`, in that order
  Dataset limit(int64_t count) const;                      // the first `count` examples, count in [0, size()]
  // The same images with new labels, one per example (size() of them), each in [0, num_classes());
  // an example seen twice must get the same label twice.
  Dataset with_labels(std::vector<int64_t> labels) const;

  // Which of the loaded examples this dataset sees, in order (what a state dict saves), and the
  // same examples seen through other rows (each checked to be one of them).
  Tensor rows() const;  // Int64 (size())
  Dataset with_rows(const Tensor& rows) const;

 private:
  struct Examples {
    std::vector<uint8_t> pixels;  // (N, H, W)
    Shape image_shape;            // (H, W)
    int64_t num_classes;
  };
  using Labels = std::vector<int64_t>;  // (N) the label of every loaded example, by row
  Dataset(std::shared_ptr<const Examples> examples, std::shared_ptr<const Labels> labels, std::vector<int64_t> rows)
      : examples_(std::move(examples)), labels_(std::move(labels)), rows_(std::move(rows)) {}
  int64_t checked_row(const char* op, int64_t index) const;

  std::shared_ptr<const Examples> examples_;
  std::shared_ptr<const Labels> labels_;
  std::vector<int64_t> rows_;  // rows of examples_ that this dataset sees, in order
};

struct TrainValidationSplit {
  Dataset train;
  Dataset validation;

  NamedTensors state_dict() const;  // "train", "validation": each part's rows
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);  // checks, then both parts see the saved rows
};

// A random `validation_count` examples (in [0, size()]) become the validation set, the rest the
// training set; both keep the permutation's order. The same generator state gives the same split.
TrainValidationSplit split(const Dataset& dataset, int64_t validation_count, Generator& gen);

// Part `shard` of `count` items split into `shards` contiguous parts in order, sizes differing by
// at most one (the first count % shards parts are one larger): items [begin, end).
struct Range {
  int64_t begin = 0, end = 0;
};
Range shard_range(int64_t count, int64_t shards, int64_t shard);

struct DataLoaderOptions {
  int64_t batch_size = 64;  // >= 1; with shards, the global batch
  bool shuffle = true;      // a fresh permutation every epoch; otherwise dataset order
  bool drop_last = false;   // drop a last batch smaller than batch_size
  ImageLayout layout = ImageLayout::Flat;
  uint64_t seed = 0;   // seeds the loader's own Generator
  int64_t shards = 1;  // >= 1: the processes that share every batch
  int64_t shard = 0;   // in [0, shards): this process's part of each batch (it may be empty)
};

class DataLoader {
 public:
  DataLoader(Dataset dataset, DataLoaderOptions options);

  int64_t num_batches() const;  // per epoch, the same for every shard
  const Dataset& dataset() const { return dataset_; }
  const DataLoaderOptions& options() const { return options_; }

  // Input iterator over one epoch's batches; each batch is converted when dereferenced (and then
  // counts as handed out, for state_dict).
  class Iterator {
   public:
    Batch operator*() const { return loader_->deliver(index_); }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, int64_t index) : loader_(loader), index_(index) {}
    DataLoader* loader_;
    int64_t index_;
  };

  // Starts a new epoch (reshuffling when options.shuffle): `for (const Batch& b : loader)` is one
  // epoch — unless a mid-epoch state was just loaded: then it continues that epoch. Iterators of
  // an earlier epoch must not be used after the next begin().
  Iterator begin();
  Iterator end() { return Iterator(this, num_batches()); }

  // "generator" (int64 (5), bit for bit), "order" (int64 (N)), "delivered" (int64: batches of this
  // epoch handed out), "rows" (int64 (N): the dataset's rows, see Dataset::rows).
  NamedTensors state_dict() const;
  // Throws ValueError/ShapeError "[DataLoader.load_state_dict] …" for a state of another size, an
  // order that is not a permutation, a count past the epoch's batches.
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);

 private:
  Batch batch_at(int64_t batch_index) const;
  Batch deliver(int64_t batch_index);

  Dataset dataset_;
  DataLoaderOptions options_;
  Generator generator_;
  std::vector<int64_t> order_;  // (N) this epoch's order of dataset positions
  int64_t delivered_ = 0;       // batches of this epoch handed out
  bool resume_ = false;         // the next begin() continues this epoch
};

}  // namespace humble::data
