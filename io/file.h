#pragma once
// Whole-file reads with one-line errors that name the file: the readers of checkpoints and
// configs take their bytes from here, so that a missing file, a directory or an unreadable file
// is reported the same way everywhere ("cannot open checkpoint 'runs/x': it is a directory").
#include <string>

namespace st {

// The bytes of the regular file at `path`. `what` names the kind of file in messages
// ("checkpoint", "config"). Throws st::Error "cannot open <what> '<path>': <reason>" when the
// file is missing, is a directory or another non-regular file, or cannot be read.
std::string read_file(const std::string& path, const std::string& what);

}  // namespace st
