// data/dataset.cpp — Dataset, split and DataLoader (contract in data/dataset.hpp).
#include "dataset.hpp"

#include <algorithm>
#include <numeric>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/parallel.hpp"
#include "../core/profile.hpp"

namespace humble::data {
namespace {

constexpr int64_t kCacheLine = 64;  // bytes

}  // namespace

Dataset::Dataset(std::vector<uint8_t> pixels, Shape image_shape, std::vector<int64_t> labels, int64_t num_classes) {
  if (image_shape.empty() || std::any_of(image_shape.begin(), image_shape.end(), [](int64_t s) { return s < 1; })) {
    throw ShapeError(
        str_cat("[Dataset] image_shape must have at least one dimension, all >= 1, got ", shape_str(image_shape)));
  }
  const auto count = static_cast<int64_t>(labels.size());
  const int64_t expected_pixels = count * shape_numel(image_shape);
  if (static_cast<int64_t>(pixels.size()) != expected_pixels) {
    throw ShapeError(str_cat("[Dataset] ", count, " labels of images ", shape_str(image_shape), " need ",
                             expected_pixels, " pixels, got ", pixels.size()));
  }
  if (num_classes < 1) throw ValueError(str_cat("[Dataset] num_classes must be >= 1, got ", num_classes));
  for (int64_t i = 0; i < count; ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw ValueError(str_cat("[Dataset] label ", labels[i], " of example ", i, " is outside [0, ", num_classes, ")"));
    }
  }
  examples_ = std::make_shared<const Examples>(Examples{std::move(pixels), std::move(image_shape), num_classes});
  labels_ = std::make_shared<const Labels>(std::move(labels));
  rows_.resize(static_cast<std::size_t>(count));
  std::iota(rows_.begin(), rows_.end(), int64_t{0});
}

int64_t Dataset::checked_row(const char* op, int64_t index) const {
  if (index < 0 || index >= size()) {
    throw ValueError(str_cat("[", op, "] index ", index, " is outside [0, ", size(), ")"));
  }
  return rows_[index];
}

int64_t Dataset::label(int64_t index) const { return (*labels_)[checked_row("Dataset::label", index)]; }

Batch Dataset::batch(std::span<const int64_t> indices, ImageLayout layout) const {
  const auto batch_size = static_cast<int64_t>(indices.size());
  const int64_t pixels_per_image = shape_numel(image_shape());

  Shape images_shape{batch_size};
  if (layout == ImageLayout::NCHW) {
    images_shape.push_back(1);
    images_shape.insert(images_shape.end(), image_shape().begin(), image_shape().end());
  } else {
    images_shape.push_back(pixels_per_image);
  }
  Tensor images = empty(images_shape, Dtype::Float32);  // (B, H·W) or (B, 1, H, W)
  Tensor labels = empty({batch_size}, Dtype::Int64);    // (B)
  float* image_values = images.data<float>();
  int64_t* label_values = labels.data<int64_t>();

  for (int64_t b = 0; b < batch_size; ++b) label_values[b] = (*labels_)[checked_row("Dataset::batch", indices[b])];
  parallel_for(batch_size, std::max<int64_t>(1, kElementwiseGrain / pixels_per_image), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const uint8_t* pixels = examples_->pixels.data() + rows_[indices[b]] * pixels_per_image;
      if (b + 1 < hi) {  // the next image's row is anywhere in the data set: ask for it while this one converts
        const uint8_t* next = examples_->pixels.data() + rows_[indices[b + 1]] * pixels_per_image;
        for (int64_t p = 0; p < pixels_per_image; p += kCacheLine) __builtin_prefetch(next + p);
        __builtin_prefetch(next + pixels_per_image - 1);  // its last line, when the row starts mid-line
      }
      float* out = image_values + b * pixels_per_image;
      for (int64_t p = 0; p < pixels_per_image; ++p) out[p] = static_cast<float>(pixels[p]) / 255.0f;
    }
  });
  return {images, labels};
}

Dataset Dataset::subset(std::span<const int64_t> indices) const {
  std::vector<int64_t> rows(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) rows[i] = checked_row("Dataset::subset", indices[i]);
  return Dataset(examples_, labels_, std::move(rows));
}

Dataset Dataset::limit(int64_t count) const {
  if (count < 0 || count > size()) {
    throw ValueError(str_cat("[Dataset::limit] count must be in [0, ", size(), "], got ", count));
  }
  return Dataset(examples_, labels_, std::vector<int64_t>(rows_.begin(), rows_.begin() + count));
}

Dataset Dataset::with_labels(std::vector<int64_t> labels) const {
  if (static_cast<int64_t>(labels.size()) != size()) {
    throw ShapeError(
        str_cat("[Dataset::with_labels] got ", labels.size(), " labels for ", size(), " examples; expected one each"));
  }
  auto table = std::make_shared<Labels>(*labels_);
  std::vector<bool> relabelled(table->size(), false);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes()) {
      throw ValueError(
          str_cat("[Dataset::with_labels] labels[", i, "] = ", labels[i], " is outside [0, ", num_classes(), ")"));
    }
    const auto row = static_cast<std::size_t>(rows_[i]);
    if (relabelled[row] && (*table)[row] != labels[i]) {
      throw ValueError(str_cat("[Dataset::with_labels] labels[", i, "] = ", labels[i], " gives example row ", row,
                               " a second label (it already got ", (*table)[row], "); expected one label per row"));
    }
    (*table)[row] = labels[i];
    relabelled[row] = true;
  }
  return Dataset(examples_, std::move(table), rows_);
}

Tensor Dataset::rows() const { return tensor(rows_, {size()}); }

Dataset Dataset::with_rows(const Tensor& rows) const {
  if (rows.dtype() != Dtype::Int64 || rows.dim() != 1)
    throw ValueError(str_cat("[Dataset::with_rows] rows must be a 1-D int64 tensor, got ", shape_str(rows.shape()), " ",
                             dtype_name(rows.dtype())));
  std::vector<int64_t> picked = rows.to_vector<int64_t>();
  const auto count = static_cast<int64_t>(labels_->size());
  for (int64_t r : picked)
    if (r < 0 || r >= count)
      throw ValueError(str_cat("[Dataset::with_rows] row ", r, " is not one of the ", count, " loaded examples"));
  return Dataset(examples_, labels_, std::move(picked));
}

NamedTensors TrainValidationSplit::state_dict() const {
  return {{"train", train.rows()}, {"validation", validation.rows()}};
}

void TrainValidationSplit::check_state_dict(const NamedTensors& state) const {
  check_named_tensors("split.load_state_dict", state, specs_of(state_dict()));
  for (const auto& [name, rows] : state) (name == "train" ? train : validation).with_rows(rows);
}

void TrainValidationSplit::load_state_dict(const NamedTensors& state) {
  check_state_dict(state);
  for (const auto& [name, rows] : state) (name == "train" ? train : validation) = train.with_rows(rows);
}

TrainValidationSplit split(const Dataset& dataset, int64_t validation_count, Generator& gen) {
  if (validation_count < 0 || validation_count > dataset.size()) {
    throw ValueError(str_cat("[split] validation_count must be in [0, ", dataset.size(), "], got ", validation_count));
  }
  const Tensor permutation = randperm(dataset.size(), gen);  // (N)
  const std::span<const int64_t> order(permutation.data<int64_t>(), static_cast<std::size_t>(dataset.size()));
  return {.train = dataset.subset(order.subspan(static_cast<std::size_t>(validation_count))),
          .validation = dataset.subset(order.first(static_cast<std::size_t>(validation_count)))};
}

Range shard_range(int64_t count, int64_t shards, int64_t shard) {
  if (count < 0 || shards < 1 || shard < 0 || shard >= shards)
    throw ValueError(str_cat("[shard_range] needs count >= 0 and 0 <= shard < shards, got count ", count, ", shard ",
                             shard, " of ", shards));
  const int64_t base = count / shards, extra = count % shards;
  const int64_t begin = shard * base + std::min(shard, extra);
  return {begin, begin + base + (shard < extra ? 1 : 0)};
}

DataLoader::DataLoader(Dataset dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options), generator_(options.seed) {
  if (options_.batch_size < 1) {
    throw ValueError(str_cat("[DataLoader] batch_size must be >= 1, got ", options_.batch_size));
  }
  if (options_.shards < 1 || options_.shard < 0 || options_.shard >= options_.shards) {
    throw ValueError(str_cat("[DataLoader] shard must be in [0, shards) with shards >= 1, got shard ", options_.shard,
                             " of ", options_.shards));
  }
  order_.resize(static_cast<std::size_t>(dataset_.size()));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  delivered_ = num_batches();  // as after a finished epoch: begin() starts the first one
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_.size();
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  if (resume_) {
    resume_ = false;
    return Iterator(this, delivered_);
  }
  delivered_ = 0;
  if (options_.shuffle) {
    const Tensor permutation = randperm(dataset_.size(), generator_);  // (N)
    const int64_t* p = permutation.data<int64_t>();
    order_.assign(p, p + dataset_.size());
  } else {
    order_.resize(static_cast<std::size_t>(dataset_.size()));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
  return Iterator(this, 0);
}

Batch DataLoader::deliver(int64_t batch_index) {
  delivered_ = std::max(delivered_, batch_index + 1);
  return batch_at(batch_index);
}

NamedTensors DataLoader::state_dict() const {
  Tensor words = empty({5}, Dtype::Int64);
  const Generator::State state = generator_.state();
  std::copy(state.begin(), state.end(), reinterpret_cast<uint64_t*>(words.data<int64_t>()));
  return {{"generator", words},
          {"order", tensor(order_, {dataset_.size()})},
          {"delivered", scalar_tensor(static_cast<double>(delivered_), Dtype::Int64)},
          {"rows", dataset_.rows()}};
}

namespace {

// The Generator::State words of a checked "generator" entry, bit for bit.
Generator::State generator_words(const Tensor& t) {
  Generator::State words;
  const std::vector<int64_t> saved = t.to_vector<int64_t>();
  std::copy(saved.begin(), saved.end(), reinterpret_cast<int64_t*>(words.data()));
  return words;
}

}  // namespace

void DataLoader::check_state_dict(const NamedTensors& state) const {
  const char* op = "DataLoader.load_state_dict";
  check_named_tensors(op, state, specs_of(state_dict()));
  for (const auto& [name, t] : state) {
    if (name == "generator") {
      Generator::check_state(generator_words(t));
    } else if (name == "order") {
      std::vector<int64_t> sorted = t.to_vector<int64_t>();
      std::sort(sorted.begin(), sorted.end());
      for (std::size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != static_cast<int64_t>(i))
          throw ValueError(str_cat("[", op, "] entry 'order' is not a permutation of [0, ", sorted.size(), ")"));
    } else if (name == "delivered") {
      const int64_t delivered = t.item<int64_t>();
      if (delivered < 0 || delivered > num_batches())
        throw ValueError(str_cat("[", op, "] entry 'delivered' is ", delivered, ", expected 0 to ", num_batches(),
                                 " (batches per epoch)"));
    } else if (name == "rows") {
      dataset_.with_rows(t);
    }
  }
}

void DataLoader::load_state_dict(const NamedTensors& state) {
  check_state_dict(state);
  for (const auto& [name, t] : state) {
    if (name == "generator") {
      generator_.set_state(generator_words(t));
    } else if (name == "order") {
      order_ = t.to_vector<int64_t>();
    } else if (name == "delivered") {
      delivered_ = t.item<int64_t>();
    } else {
      dataset_ = dataset_.with_rows(t);
    }
  }
  resume_ = delivered_ < num_batches();
}

Batch DataLoader::batch_at(int64_t batch_index) const {
  const profile::Frame frame("DataLoader.batch");
  const int64_t first = batch_index * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, dataset_.size() - first);
  const Range part = shard_range(count, options_.shards, options_.shard);
  return dataset_.batch(std::span<const int64_t>(order_).subspan(first + part.begin, part.end - part.begin),
                        options_.layout);
}

}  // namespace humble::data
