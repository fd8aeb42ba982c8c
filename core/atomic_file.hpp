// core/atomic_file.hpp — writing a whole file so that readers see the old file or the new one,
// never a part of it.
//
// The bytes go to a temporary file `.<name>.tmp.XXXXXX` beside the target, which is written, fsync'd,
// closed (each step checked: a full disk fails at one of them) and renamed over the target; then
// the directory is fsync'd, so the rename survives a crash. On any failure the temporary file is
// removed, an existing target is left untouched, and IoError "[op] <path>: <step> failed: <reason>"
// says which step failed. Checkpoints, SVG figures and the study's outputs are all written this way.
#pragma once

#include <string>
#include <string_view>

namespace humble {

void write_file_atomically(const std::string& path, std::string_view bytes, const char* op);

}  // namespace humble
