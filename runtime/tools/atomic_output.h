// Writing a tool's output file: readers see the old content or the whole new one, never a part, and nothing
// but a regular file at the given path is ever replaced. The one output routine of every tool.
//
// - The content goes to a temporary file in the target's directory, created exclusively (O_CREAT | O_EXCL |
//   O_NOFOLLOW) under an unpredictable name, `.<name>.resq-tmp.<pid>.<16 random hex digits>`: a symbolic
//   link planted there cannot redirect the write, and concurrent writers never share a file. It is fsynced,
//   renamed over the target, and the directory is fsynced.
// - The target must be absent or a regular file. A directory, device node (/dev/null), FIFO or socket is
//   refused with one line, and so is a symbolic link: rename would replace the link itself, never write where
//   it points, and /dev/stdout is such a link (to /proc/self/fd/1): replacing it, as root, would break the
//   system for everyone. So resq neither follows nor replaces a link: give the file's own path. There is no
//   writing to standard output. Links among the directories of the path are followed as usual.
// - A temporary file of that pattern for the same target, left by a writer killed with SIGKILL, is removed by
//   the next write once its writer's pid no longer runs and it has not changed for 10 minutes (a live writer
//   on another machine sharing the directory keeps changing it). No other file is ever touched.
// - SIGINT, SIGTERM, SIGHUP and SIGQUIT wait until the temporary file is renamed or removed.
// - The new file has mode 0644.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>

#include "resq/status.h"

namespace resq {

struct ByteRange {
  const void* data;
  size_t size;
};

// Fails, naming the reason, unless `path` can be written by the rules above: its directory exists and is
// writable, and the path is absent or a regular file. Tools call it before long work; the write checks again.
Status CheckOutputPath(const std::string& path);

// Fails when `a` and `b` are one file: the same name in the same directory however it is spelt (`./x`,
// `d/../x`, through a linked directory), or the same inode (a hard or symbolic link to the other).
// `what_a` and `what_b` name them in the message ("-o", "--report").
Status CheckNotSameFile(const char* what_a, const std::string& a, const char* what_b, const std::string& b);

// Writes the parts, in order, as the new content of `path`. On failure `path` is left as it was and the
// temporary file is removed.
Status WriteFileAtomically(const std::string& path, std::initializer_list<ByteRange> parts);

}  // namespace resq
