// tests/test_errors.cpp — docs/errors.md is checked against the code, row by row.
//
// docs/errors.md is the table of every bad input humble handles: an id, what is wrong, the
// exception type, the message, and the test that proves it. Rows proven "here" are run from the
// table below: each id's bad call must throw exactly that type with exactly that message (`<dir>`
// in a message stands for this test's scratch folder, `…` for text that varies, such as a system
// error string). Rows proven by another test must name one that exists. Every id below must have its
// row, and every row its proof: the table cannot drift from the code, nor the code from the table.
// HUMBLE_PRINT_ERRORS=1 prints each case's type and message instead (to write a new row).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace test_errors {

using namespace humble;
namespace fs = std::filesystem;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor f32(const std::vector<double>& v, Shape s) { return tensor(v, std::move(s)); }
Tensor f64(const std::vector<double>& v, Shape s) { return tensor(v, std::move(s), Dtype::Float64); }
Tensor i64(const std::vector<double>& v, Shape s) { return tensor(v, std::move(s), Dtype::Int64); }
Tensor leaf(Shape s) { return zeros(std::move(s)).requires_grad_(); }

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An IDX file: magic 00 00 <type> <rank>, big-endian sizes, then `payload` bytes.
std::string idx(const std::vector<uint32_t>& sizes, std::size_t payload, char type = 0x08) {
  std::string out{0, 0, type, static_cast<char>(sizes.size())};
  for (uint32_t s : sizes)
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((s >> shift) & 0xff);
  return out + std::string(payload, '\1');
}

// A model checkpoint of Linear(2, 2) at <dir>/name, with `edit` applied to its bytes.
std::string checkpoint(const std::string& dir, const std::string& name,
                       const std::function<void(std::string&)>& edit = {}) {
  const std::string path = dir + "/" + name;
  Generator gen(3);
  nn::Linear layer(2, 2, true, gen);
  nn::save(layer, path);
  if (edit) {
    std::string bytes = read(path);
    edit(bytes);
    write(path, bytes);
  }
  return path;
}

// A whole-run checkpoint (Linear + Adam + StepLR + generator) with one entry changed.
std::string run_checkpoint(const std::string& dir, const std::function<void(NamedTensors&)>& edit) {
  Generator gen(1);
  nn::Linear layer(2, 2, true, gen);
  optim::Adam opt(layer.parameters(), {.lr = 0.01});
  sum(layer(ones({1, 2}))).backward();
  opt.step();
  optim::StepLR sched(opt, 1);
  const std::string path = dir + "/run.ckpt";
  training::save_checkpoint(path, {.model = &layer, .optimizer = &opt, .scheduler = &sched, .generator = &gen});
  NamedTensors entries = load_tensors(path);
  edit(entries);
  save_tensors(entries, path);
  return path;
}
void load_run(const std::string& path) {
  Generator gen(2);
  nn::Linear layer(2, 2, true, gen);
  optim::Adam opt(layer.parameters(), {.lr = 0.01});
  optim::StepLR sched(opt, 1);
  training::Checkpoint c{.model = &layer, .optimizer = &opt, .scheduler = &sched, .generator = &gen};
  training::load_checkpoint(path, c);
}
Tensor& entry(NamedTensors& entries, const std::string& name) {
  for (auto& [n, t] : entries)
    if (n == name) return t;
  throw std::logic_error("no entry " + name);
}

void load_mnist(const std::string& dir, const std::string& images, const std::string& labels) {
  write(dir + "/train-images-idx3-ubyte", images);
  write(dir + "/train-labels-idx1-ubyte", labels);
  data::load_mnist_split(dir, "train");
}

using Case = std::function<void(const std::string& dir)>;

// Every bad input the errors table proves here, by id.
const std::map<std::string, Case>& cases() {
  static const std::map<std::string, Case> all = {
      // Tensors and factories
      {"tensor.count", [](auto&) { tensor({1, 2, 3}, {2, 2}); }},
      {"tensor.negative_dim", [](auto&) { zeros({2, -1}); }},
      {"tensor.undefined", [](auto&) { Tensor().shape(); }},
      {"tensor.item", [](auto&) { zeros({2}).item(); }},
      {"tensor.size_dim", [](auto&) { zeros({2, 3}).size(2); }},
      {"tensor.dtype_access", [](auto&) { zeros({2}).data<double>(); }},
      {"tensor.copy_shape", [](auto&) { zeros({2}).copy_(zeros({3})); }},
      {"tensor.slice", [](auto&) { zeros({4}).slice(0, 0, 4, 0); }},
      {"tensor.row", [](auto&) { zeros({4})[4]; }},
      {"tensor.reshape", [](auto&) { zeros({2, 3}).reshape({4, 2}); }},
      {"tensor.int64_value", [](auto&) { tensor({1, kNan}, {2}, Dtype::Int64); }},
      {"tensor.int64_fraction", [](auto&) { tensor({1.5}, {1}, Dtype::Int64); }},
      {"tensor.to_int64", [](auto&) { f32({1, kInf}, {2}).to(Dtype::Int64); }},
      {"factory.randint", [](auto&) {
         Generator g(0);
         randint(3, 3, {2}, g);
       }},
      {"factory.randperm", [](auto&) {
         Generator g(0);
         randperm(-1, g);
       }},
      {"factory.randn_int", [](auto&) {
         Generator g(0);
         randn({2}, g, Dtype::Int64);
       }},
      {"generator.uniform_int", [](auto&) { Generator(0).uniform_int(5, 5); }},
      {"generator.zero_state", [](auto&) { Generator(0).set_state({0, 0, 0, 0, 0}); }},
      {"threads.zero", [](auto&) { set_num_threads(0); }},
      // Ops
      {"ops.broadcast", [](auto&) { zeros({2, 3}) + zeros({4}); }},
      {"ops.dtypes", [](auto&) { zeros({2}) + zeros({2}, Dtype::Float64); }},
      {"ops.dim", [](auto&) { sum(zeros({2, 3}), {2}); }},
      {"ops.dim_twice", [](auto&) { sum(zeros({2, 3}), {1, -1}); }},
      {"ops.clamp", [](auto&) { clamp(zeros({2}), 1, 0); }},
      {"ops.mean_int", [](auto&) { mean(zeros({2}, Dtype::Int64)); }},
      {"ops.max_empty", [](auto&) { max(zeros({0})); }},
      {"ops.matmul_inner", [](auto&) { matmul(zeros({2, 3}), zeros({4, 5})); }},
      {"ops.matmul_rank", [](auto&) { matmul(zeros({2}), zeros({2, 2})); }},
      {"ops.matmul_batch", [](auto&) { matmul(zeros({2, 2, 3}), zeros({3, 3, 2})); }},
      {"ops.linear", [](auto&) { linear(zeros({2, 3}), zeros({4, 5})); }},
      {"ops.linear_bias", [](auto&) { linear(zeros({2, 3}), zeros({4, 3}), zeros({5})); }},
      {"ops.sum_to", [](auto&) { sum_to(zeros({2, 3}), {4}); }},
      {"ops.broadcast_to", [](auto&) { broadcast_to(zeros({3}), {2, 4}); }},
      {"ops.squeeze", [](auto&) { squeeze(zeros({2, 3}), 0); }},
      {"ops.permute", [](auto&) { permute(zeros({2, 3}), {0, 0}); }},
      {"ops.cat_empty", [](auto&) { cat({}); }},
      {"ops.cat_shapes", [](auto&) { cat({zeros({2, 3}), zeros({2, 4})}, 0); }},
      {"ops.stack_shapes", [](auto&) { stack({zeros({2}), zeros({3})}); }},
      {"ops.index_dtype", [](auto&) { index_select(zeros({3}), zeros({1})); }},
      {"ops.index_range", [](auto&) { index_select(zeros({3}), i64({3}, {1})); }},
      {"ops.gather_shape", [](auto&) { gather(zeros({2, 3}), 1, i64({0}, {1})); }},
      {"ops.one_hot", [](auto&) { one_hot(i64({0}, {1}), 0); }},
      // Autograd
      {"autograd.backward_numel", [](auto&) { (leaf({2}) * 2.0).backward(); }},
      {"autograd.no_graph", [](auto&) { zeros({1}).backward(); }},
      {"autograd.grad_output", [](auto&) { (leaf({2}) * 2.0).backward(zeros({3})); }},
      {"autograd.freed", [](auto&) {
         const Tensor y = sum(exp(leaf({2})));
         y.backward();
         y.backward();
       }},
      {"autograd.requires_grad_int", [](auto&) { zeros({2}, Dtype::Int64).requires_grad_(); }},
      {"autograd.requires_grad_nonleaf", [](auto&) { (leaf({2}) * 2.0).requires_grad_(false); }},
      {"autograd.set_grad", [](auto&) { leaf({2}).set_grad(zeros({3})); }},
      {"autograd.retain_grad", [](auto&) { zeros({2}).retain_grad(); }},
      {"autograd.gradcheck_f32", [](auto&) { gradcheck([](const Tensors& x) { return sum(x[0]); }, {leaf({2})}); }},
      {"anomaly.forward", [](auto&) {
         DetectAnomalyGuard anomaly;
         log(zeros({2}));
       }},
      {"anomaly.backward", [](auto&) {
         const Tensor x = tensor({0}, {1}, Dtype::Float64, true);
         const Tensor y = sum(sqrt(x));
         DetectAnomalyGuard anomaly;
         y.backward();
       }},
      // Cross-entropy
      {"loss.logits_dtype", [](auto&) { losses::cross_entropy(zeros({2, 3}, Dtype::Int64), i64({0, 1}, {2})); }},
      {"loss.logits_rank", [](auto&) { losses::cross_entropy(zeros({3}), i64({0}, {1})); }},
      {"loss.no_classes", [](auto&) { losses::cross_entropy(zeros({2, 0}), i64({0, 0}, {2})); }},
      {"loss.target_shape", [](auto&) { losses::cross_entropy(zeros({8, 10}), i64({0, 1, 2, 3, 4, 5, 6}, {7})); }},
      {"loss.target_range", [](auto&) { losses::cross_entropy(zeros({2, 10}), i64({3, 12}, {2})); }},
      {"loss.target_dtype", [](auto&) { losses::cross_entropy(zeros({2, 3}), zeros({2, 3}, Dtype::Float64)); }},
      {"loss.soft_shape", [](auto&) { losses::cross_entropy(zeros({2, 3}), zeros({2, 4})); }},
      {"loss.soft_sum", [](auto&) { losses::cross_entropy(zeros({1, 2}), f32({0.5, 0.6}, {1, 2})); }},
      {"loss.soft_negative", [](auto&) { losses::cross_entropy(zeros({1, 2}), f32({1.5, -0.5}, {1, 2})); }},
      {"loss.soft_ruled_out", [](auto&) { losses::cross_entropy(f32({0, -kInf}, {1, 2}), f32({0.5, 0.5}, {1, 2})); }},
      {"loss.soft_ignore_index",
       [](auto&) { losses::cross_entropy(zeros({1, 2}), f32({1, 0}, {1, 2}), {.ignore_index = 0}); }},
      {"loss.eps", [](auto&) { losses::cross_entropy(zeros({1, 2}), i64({0}, {1}), {.label_smoothing = -0.5}); }},
      {"loss.eps_nan", [](auto&) { losses::cross_entropy(zeros({1, 2}), i64({0}, {1}), {.label_smoothing = kNan}); }},
      {"loss.weight_shape", [](auto&) { losses::cross_entropy(zeros({1, 3}), i64({0}, {1}), {.weight = zeros({2})}); }},
      {"loss.weight_dtype",
       [](auto&) { losses::cross_entropy(zeros({1, 2}), i64({0}, {1}), {.weight = zeros({2}, Dtype::Float64)}); }},
      {"loss.weight_negative",
       [](auto&) { losses::cross_entropy(zeros({1, 2}), i64({0}, {1}), {.weight = f32({1, -2}, {2})}); }},
      {"loss.weight_too_small",
       [](auto&) { losses::cross_entropy(zeros({1, 2}, Dtype::Float64), i64({0}, {1}), {.weight = f64({5e-324, 1}, {2})}); }},
      {"loss.other_classes", [](auto&) {
         losses::cross_entropy(zeros({1, 1}), i64({0}, {1}),
                               {.label_smoothing = 0.1, .smoothing_target = losses::SmoothingTarget::OtherClasses});
       }},
      {"loss.target_ruled_out", [](auto&) { losses::cross_entropy(f32({-kInf, 0}, {1, 2}), i64({0}, {1})); }},
      {"loss.nan_logit", [](auto&) { losses::cross_entropy(f32({0, kNan}, {1, 2}), i64({0}, {1})); }},
      {"loss.inf_logit", [](auto&) { losses::cross_entropy(f32({0, 1, kInf, 0}, {2, 2}), i64({0, 1}, {2})); }},
      {"loss.overflow", [](auto&) { losses::cross_entropy(f64({1e308, -1e308}, {1, 2}), i64({1}, {1})); }},
      {"loss.overflow_f32", [](auto&) { losses::cross_entropy(f32({3e38, -3e38}, {1, 2}), i64({1}, {1})); }},
      {"loss.bce_range", [](auto&) { losses::binary_cross_entropy_with_logits(zeros({2}), f32({0.5, 2}, {2})); }},
      {"loss.focal_gamma", [](auto&) { losses::focal_loss(zeros({1, 2}), i64({0}, {1}), {.gamma = -1}); }},
      {"loss.distillation_t", [](auto&) { losses::distillation_loss(zeros({1, 2}), zeros({1, 2}), 0); }},
      {"loss.kl_rank", [](auto&) { losses::kl_div(zeros({}), zeros({})); }},
      {"loss.optimal_gap", [](auto&) { losses::optimal_logit_gap(1, 0.1); }},
      // Layers and modules
      {"nn.linear_input", [](auto&) { nn::Linear(4, 2)(zeros({3, 5})); }},
      {"nn.conv_input", [](auto&) { nn::Conv2d(3, 4, 3)(zeros({1, 2, 8, 8})); }},
      {"nn.conv_small", [](auto&) { nn::Conv2d(1, 1, 5)(zeros({1, 1, 3, 3})); }},
      {"nn.conv_args", [](auto&) { nn::Conv2d(0, 4, 3); }},
      {"nn.pool_padding", [](auto&) { nn::MaxPool2d(2, std::nullopt, 2)(zeros({1, 1, 4, 4})); }},
      {"nn.dropout_p", [](auto&) { nn::Dropout(1.5); }},
      {"nn.flatten", [](auto&) { nn::Flatten(2)(zeros({3, 4})); }},
      {"nn.batch_norm_input", [](auto&) { nn::BatchNorm1d(4)(zeros({2, 3})); }},
      {"nn.batch_norm_one", [](auto&) { nn::BatchNorm1d(4)(zeros({1, 4})); }},
      {"nn.batch_norm_var", [](auto&) {
         nn::BatchNorm1d bn(2);
         bn.running_var.fill_(-1);
         bn.eval();
         bn(zeros({3, 2}));
       }},
      {"nn.layer_norm", [](auto&) { nn::LayerNorm({}, 1e-5); }},
      {"nn.module_to_int", [](auto&) { nn::Linear(2, 2).to(Dtype::Int64); }},
      {"nn.state_dict_shape", [](auto&) {
         nn::Linear layer(2, 3);
         layer.load_state_dict({{"weight", zeros({3, 3})}, {"bias", zeros({3})}});
       }},
      {"nn.state_dict_missing", [](auto&) { nn::Linear(2, 3).load_state_dict({{"weight", zeros({3, 2})}}); }},
      {"nn.state_dict_nan",
       [](auto&) { nn::Linear(1, 1).load_state_dict({{"weight", f32({kNan}, {1, 1})}, {"bias", zeros({1})}}); }},
      // Optimizers and schedulers
      {"optim.lr", [](auto&) { optim::SGD({leaf({2})}, {.lr = -1}); }},
      {"optim.lr_inf", [](auto&) { optim::Adam({leaf({2})}, {.lr = kInf}); }},
      {"optim.betas", [](auto&) { optim::Adam({leaf({2})}, {.betas = {0.9, 1.0}}); }},
      {"optim.nesterov", [](auto&) { optim::SGD({leaf({2})}, {.lr = 0.1, .nesterov = true}); }},
      {"optim.param", [](auto&) { optim::SGD({zeros({2}, Dtype::Int64)}); }},
      {"optim.rmsprop_alpha", [](auto&) { optim::RMSprop({leaf({2})}, {.alpha = 2}); }},
      {"optim.clip", [](auto&) { optim::clip_grad_norm({leaf({2})}, 1.0, 0); }},
      {"optim.state_step", [](auto&) {
         optim::Adam opt({leaf({2})});
         opt.load_state_dict({{"lr", f64({0.1}, {1})}, {"state.0.step", int64_scalar(0)},
                              {"state.0.exp_avg", zeros({2})}, {"state.0.exp_avg_sq", zeros({2})}});
       }},
      {"sched.step_size", [](auto&) {
         optim::SGD opt({leaf({2})});
         optim::StepLR(opt, 0);
       }},
      {"sched.gamma", [](auto&) {
         optim::SGD opt({leaf({2})});
         optim::StepLR(opt, 1, kNan);
       }},
      {"sched.milestones", [](auto&) {
         optim::SGD opt({leaf({2})});
         optim::MultiStepLR(opt, {3, 1});
       }},
      {"sched.one_cycle_past", [](auto&) {
         optim::SGD opt({leaf({2})}, {.lr = 0.1, .momentum = 0.9});
         optim::OneCycleLR sched(opt, {.max_lr = 1, .total_steps = 1});
         sched.step();
         sched.step();
       }},
      {"sched.one_cycle_momentum", [](auto&) {
         optim::SGD opt({leaf({2})});
         optim::OneCycleLR(opt, {.max_lr = 1, .total_steps = 4});
       }},
      {"sched.lr_overflow", [](auto&) {
         optim::SGD opt({leaf({2})}, {.lr = 1e300});
         optim::StepLR sched(opt, 1, 1e10);
         sched.step();
       }},
      // Checkpoint files
      {"ckpt.missing", [](const std::string& dir) { load_tensors(dir + "/no-such.ckpt"); }},
      {"ckpt.folder", [](const std::string& dir) { load_tensors(dir); }},
      {"ckpt.magic", [](const std::string& dir) { load_tensors(checkpoint(dir, "m.ckpt", [](auto& b) { b[0] = 'X'; })); }},
      {"ckpt.version", [](const std::string& dir) { load_tensors(checkpoint(dir, "v.ckpt", [](auto& b) { b[8] = 2; })); }},
      {"ckpt.short_header",
       [](const std::string& dir) { load_tensors(checkpoint(dir, "h.ckpt", [](auto& b) { b.resize(13); })); }},
      {"ckpt.truncated",
       [](const std::string& dir) { load_tensors(checkpoint(dir, "t.ckpt", [](auto& b) { b.resize(b.size() - 5); })); }},
      {"ckpt.trailing", [](const std::string& dir) { load_tensors(checkpoint(dir, "x.ckpt", [](auto& b) { b += "x"; })); }},
      {"ckpt.crc",
       [](const std::string& dir) { load_tensors(checkpoint(dir, "c.ckpt", [](auto& b) { b[b.size() - 2] ^= 0x10; })); }},
      {"ckpt.model_entry", [](const std::string& dir) {
         nn::Linear other(2, 5);
         nn::load(other, checkpoint(dir, "e.ckpt"));
       }},
      {"ckpt.negative_lr",
       [](const std::string& dir) { load_run(run_checkpoint(dir, [](auto& e) { entry(e, "optimizer.lr").fill_(-1); })); }},
      {"ckpt.step_zero", [](const std::string& dir) {
         load_run(run_checkpoint(dir, [](auto& e) { *entry(e, "optimizer.state.0.step").template data<int64_t>() = 0; }));
       }},
      {"ckpt.exp_avg_sq", [](const std::string& dir) {
         load_run(run_checkpoint(dir, [](auto& e) { entry(e, "optimizer.state.0.exp_avg_sq").fill_(-1); }));
       }},
      {"ckpt.epoch", [](const std::string& dir) {
         load_run(run_checkpoint(dir, [](auto& e) { *entry(e, "epoch").template data<int64_t>() = -1; }));
       }},
      {"ckpt.generator",
       [](const std::string& dir) { load_run(run_checkpoint(dir, [](auto& e) { entry(e, "generator").fill_(0); })); }},
      {"ckpt.last_epoch", [](const std::string& dir) {
         load_run(run_checkpoint(dir, [](auto& e) { *entry(e, "scheduler.last_epoch").template data<int64_t>() = -2; }));
       }},
      {"ckpt.part_missing", [](const std::string& dir) {
         nn::Linear layer(2, 2);
         training::Checkpoint c{.model = &layer};
         training::load_checkpoint(run_checkpoint(dir, [](auto&) {}), c);
       }},
      {"ckpt.save_dir", [](const std::string& dir) { nn::save(nn::Linear(1, 1), dir + "/missing/model.ckpt"); }},
      // IDX files and data sets
      {"idx.missing", [](const std::string& dir) { data::read_idx(dir + "/no-such-idx"); }},
      {"idx.folder", [](const std::string& dir) { data::read_idx(dir); }},
      {"idx.empty", [](const std::string& dir) {
         write(dir + "/f", "");
         data::read_idx(dir + "/f");
       }},
      {"idx.short_magic", [](const std::string& dir) {
         write(dir + "/f", std::string(3, '\0'));
         data::read_idx(dir + "/f");
       }},
      {"idx.magic", [](const std::string& dir) {
         write(dir + "/f", "\x12\x34\x08\x01\0\0\0\1x");
         data::read_idx(dir + "/f");
       }},
      {"idx.type", [](const std::string& dir) {
         write(dir + "/f", idx({2}, 8, 0x0D));
         data::read_idx(dir + "/f");
       }},
      {"idx.rank", [](const std::string& dir) {
         write(dir + "/f", idx({1, 1, 1, 1, 1}, 1));
         data::read_idx(dir + "/f");
       }},
      {"idx.size_zero", [](const std::string& dir) {
         write(dir + "/f", idx({3, 0}, 0));
         data::read_idx(dir + "/f");
       }},
      {"idx.short_header", [](const std::string& dir) {
         write(dir + "/f", idx({2, 3, 4}, 0).substr(0, 8));
         data::read_idx(dir + "/f");
       }},
      {"idx.oversized", [](const std::string& dir) {
         write(dir + "/f", idx({0xffffffff, 0xffffffff, 0xffffffff}, 0));
         data::read_idx(dir + "/f");
       }},
      {"idx.truncated", [](const std::string& dir) {
         write(dir + "/f", idx({2, 3, 4}, 20));
         data::read_idx(dir + "/f");
       }},
      {"idx.trailing", [](const std::string& dir) {
         write(dir + "/f", idx({2, 3}, 7));
         data::read_idx(dir + "/f");
       }},
      {"idx.gzip_truncated", [](const std::string& dir) {
         write(dir + "/f", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
         data::read_idx(dir + "/f");
       }},
      {"idx.gzip_corrupt", [](const std::string& dir) {
         write(dir + "/f", "\x1f\x8b\x07garbage");
         data::read_idx(dir + "/f");
       }},
      {"idx.dev_zero", [](auto&) { data::read_idx("/dev/zero"); }},
      {"mnist.split", [](const std::string& dir) { data::load_mnist_split(dir, "test"); }},
      {"mnist.missing", [](const std::string& dir) { data::load_mnist_split(dir + "/empty", "train"); }},
      {"mnist.counts", [](const std::string& dir) { load_mnist(dir, idx({3, 2, 2}, 12), idx({2}, 2)); }},
      {"mnist.label", [](const std::string& dir) {
         std::string labels = idx({3}, 3);
         labels[9] = 10;
         load_mnist(dir, idx({3, 2, 2}, 12), labels);
       }},
      {"mnist.rank", [](const std::string& dir) { load_mnist(dir, idx({3}, 3), idx({3}, 3)); }},
      {"dataset.pixels", [](auto&) { data::Dataset(std::vector<uint8_t>(5), {2, 2}, {0, 1}, 10); }},
      {"dataset.label", [](auto&) { data::Dataset(std::vector<uint8_t>(4), {2, 2}, {10}, 10); }},
      {"dataset.index",
       [](auto&) { data::Dataset(std::vector<uint8_t>(4), {2, 2}, {1}, 10).batch(std::vector<int64_t>{3}); }},
      {"dataset.limit", [](auto&) { data::Dataset(std::vector<uint8_t>(4), {2, 2}, {1}, 10).limit(2); }},
      {"dataloader.batch", [](auto&) {
         data::DataLoader(data::Dataset(std::vector<uint8_t>(4), {2, 2}, {1}, 10), {.batch_size = 0});
       }},
      // Metrics and pictures
      {"metrics.logits_shape", [](auto&) { metrics::evaluate(zeros({4, 1}), i64({0, 0, 0, 0}, {4})); }},
      {"metrics.labels_shape", [](auto&) { metrics::evaluate(zeros({4, 2}), i64({0, 1, 0}, {3})); }},
      {"metrics.label_range", [](auto&) { metrics::evaluate(zeros({2, 2}), i64({0, 7}, {2})); }},
      {"metrics.nan_logit", [](auto&) { metrics::evaluate(f64({0, kNan}, {1, 2}), i64({0}, {1})); }},
      {"metrics.all_ruled_out", [](auto&) { metrics::evaluate(f64({-kInf, -kInf}, {1, 2}), i64({0}, {1})); }},
      {"metrics.temperature", [](auto&) { metrics::evaluate(zeros({1, 2}), i64({0}, {1}), 1e-310); }},
      {"metrics.spread", [](auto&) { metrics::evaluate(f64({1e308, -1e308}, {1, 2}), i64({0}, {1})); }},
      {"metrics.bins", [](auto&) { metrics::evaluate(zeros({1, 2}), i64({0}, {1}), 1.0, 0); }},
      {"metrics.histogram", [](auto&) { metrics::confidence_histogram({0.5, 1.5}); }},
      {"plot.range", [](auto&) { plot::Chart("c", "x", "y").x_range(1, 1); }},
      {"plot.empty", [](auto&) { plot::Figure("f").to_svg(); }},
      {"plot.save", [](const std::string& dir) {
         plot::Figure figure("f");
         figure.add(plot::Chart("c", "x", "y"));
         figure.save(dir + "/missing/f.svg");
       }},
  };
  return all;
}

// The rows of docs/errors.md's tables: | `id` | what | `Type` | `message` | proof |
struct Row {
  std::string id, type, message, proof;
};

std::vector<Row> rows_of_the_table() {
  std::ifstream in(HUMBLE_SOURCE_DIR "/docs/errors.md");
  REQUIRE_MESSAGE(in.good(), "cannot open docs/errors.md");
  std::vector<Row> rows;
  const std::regex row(R"re(^\| `([a-z0-9_.]+)` \| .* \| `([A-Za-z:]+)` \| `(.*)` \| (.*) \|$)re");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows.push_back({m[1], m[2], m[3], m[4]});
  }
  return rows;
}

// `message` as the table writes it: `<dir>` is the scratch folder, `…` stands for any text.
bool matches(const std::string& actual, std::string expected, const std::string& dir) {
  for (std::size_t at; (at = expected.find("<dir>")) != std::string::npos;) expected.replace(at, 5, dir);
  std::vector<std::string> pieces;
  for (std::size_t from = 0;;) {
    const std::size_t at = expected.find("…", from);
    pieces.push_back(expected.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) break;
    from = at + std::string("…").size();
  }
  if (pieces.size() == 1) return actual == expected;
  std::size_t at = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::size_t found =
        i == 0 ? (actual.starts_with(pieces[0]) ? 0 : std::string::npos) : actual.find(pieces[i], at);
    if (found == std::string::npos) return false;
    at = found + pieces[i].size();
  }
  return pieces.back().empty() || actual.ends_with(pieces.back());
}

// The type and message `bad` throws.
std::pair<std::string, std::string> thrown(const Case& bad, const std::string& dir) {
  try {
    bad(dir);
  } catch (const ShapeError& e) {
    return {"ShapeError", e.what()};
  } catch (const ValueError& e) {
    return {"ValueError", e.what()};
  } catch (const IoError& e) {
    return {"IoError", e.what()};
  } catch (const AnomalyError& e) {
    return {"AnomalyError", e.what()};
  } catch (const std::exception& e) {
    return {"std::exception", e.what()};
  }
  return {"nothing", ""};
}

// Whether a test named `name` exists: a doctest case in tests/, or a ctest test in a CMakeLists.txt.
bool test_exists(const std::string& name) {
  const auto mentions = [&name](const fs::path& file, const std::string& quoted) {
    return read(file.string()).find(quoted) != std::string::npos;
  };
  for (auto it = fs::recursive_directory_iterator(HUMBLE_SOURCE_DIR); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& p = it->path();
    const std::string leaf = p.filename().string();
    std::error_code ignored;
    if ((leaf.starts_with("build") || leaf == ".git") && it->is_directory(ignored)) {
      it.disable_recursion_pending();  // never walked: build trees change while the tests run
      continue;
    }
    if (p.extension() == ".cpp" && mentions(p, "TEST_CASE(\"" + name + "\")")) return true;
    if (p.filename() == "CMakeLists.txt" && mentions(p, "NAME " + name)) return true;
  }
  return false;
}

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("humble-errors-" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path / "empty");
  }
  ~ScratchDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("errors table: every row proven here throws exactly its type and message") {
  ScratchDir scratch;
  const std::string dir = scratch.path.string();
  if (std::getenv("HUMBLE_PRINT_ERRORS") != nullptr) {
    for (const auto& [id, bad] : cases()) {
      const auto [type, message] = thrown(bad, dir);
      std::printf("| `%s` | | `%s` | `%s` | here |\n", id.c_str(), type.c_str(), message.c_str());
    }
    return;
  }
  std::map<std::string, int> documented;
  for (const Row& row : rows_of_the_table()) {
    CAPTURE(row.id);
    CHECK_MESSAGE(++documented[row.id] == 1, "two rows for one id");
    if (row.proof != "here") continue;
    const auto found = cases().find(row.id);
    REQUIRE_MESSAGE(found != cases().end(), "the row's case is missing from tests/test_errors.cpp");
    const auto [type, message] = thrown(found->second, dir);
    CHECK(type == row.type);
    CHECK_MESSAGE(matches(message, row.message, dir), "the code says: " << message);
  }
  for (const auto& [id, _] : cases()) CHECK_MESSAGE(documented.count(id) == 1, "no row in docs/errors.md for " << id);
}

TEST_CASE("errors table: every row proven elsewhere names a test that exists") {
  for (const Row& row : rows_of_the_table()) {
    if (row.proof == "here") continue;
    CAPTURE(row.id);
    const std::regex named(R"re(^test "(.*)"$)re");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(row.proof, m, named), "proof must be `here` or test \"<name>\": " << row.proof);
    CHECK_MESSAGE(test_exists(m[1]), "no test named " << m[1]);
  }
}

}  // namespace test_errors
