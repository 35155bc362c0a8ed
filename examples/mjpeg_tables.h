// MJPEG frames from USB webcams usually carry no Huffman tables (the AVI1 convention): they are coded with
// the standard tables of the JPEG specification (Annex K.3), which the decoder is to supply. stb_image does
// not, so resq-camera inserts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resq {

// True when the frame has no DHT segment before its first scan; then *with_tables is the frame with the
// standard tables inserted after its start-of-image marker. Reuses with_tables' capacity.
bool AddStandardHuffmanTables(const uint8_t* frame, size_t bytes, std::vector<uint8_t>* with_tables);

}  // namespace resq
