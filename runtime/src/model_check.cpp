#include "model_check.h"

#include <cstring>

#include "model_check_layers.h"
#include "resq/runtime.h"

namespace resq {
namespace {

using check::Size;

// Model.schema_version of a size-prefixed buffer whose header (size, identifier) is already checked, with
// only the checks this one read needs: the root offset, the root table's vtable and the field itself.
bool ReadSchemaVersion(const uint8_t* bytes, size_t size, uint32_t* version) {
  flatbuffers::Verifier verifier(bytes, size);
  const size_t root_at = sizeof(flatbuffers::uoffset_t);  // after the size prefix
  const size_t root_offset = verifier.VerifyOffset(root_at);
  if (root_offset == 0) return false;
  const auto* root = reinterpret_cast<const flatbuffers::Table*>(bytes + root_at + root_offset);
  if (!root->VerifyTableStart(verifier) ||
      !root->VerifyField<uint32_t>(verifier, schema::Model::VT_SCHEMA_VERSION, sizeof(uint32_t))) {
    return false;
  }
  *version = root->GetField<uint32_t>(schema::Model::VT_SCHEMA_VERSION, 0);
  return true;
}

}  // namespace

bool IsConstant(const schema::Tensor& tensor) { return tensor.data_f32() || tensor.data_i8() || tensor.data_i32(); }

size_t ElementCount(const schema::Tensor& tensor) {
  size_t count = 1;
  for (int dim : *tensor.shape()) count *= static_cast<size_t>(dim);
  return count;
}

Status CheckModel(const void* data, size_t size, const schema::Model** model_out) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  // The size prefix, the root offset and the file identifier come first: the identifier check reads all 12.
  constexpr size_t kHeaderBytes = 2 * sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength;
  if (data == nullptr || size < kHeaderBytes) return Status::Error("not a resq model: %zu bytes is too short", size);
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) return Status::Error("model buffer must be 8-byte aligned");
  if (!schema::SizePrefixedModelBufferHasIdentifier(bytes)) {
    return Status::Error("not a resq model: missing the RESQ identifier");
  }
  // The size prefix catches a file cut short (or padded) anywhere, even where only padding was lost.
  const size_t declared = flatbuffers::GetPrefixedSize(bytes) + sizeof(flatbuffers::uoffset_t);
  if (declared != size) {
    return Status::Error("truncated or padded resq model: it declares %zu bytes, the buffer holds %zu", declared, size);
  }
  // The version before the whole buffer: a model of another version need not verify against this schema
  // (version 1 kept window fields where version 2 has a Window2D table), and its reader deserves to be told why.
  uint32_t version = 0;
  if (!ReadSchemaVersion(bytes, size, &version)) {
    return Status::Error("corrupt resq model: its root table or schema version is unreadable");
  }
  if (version != kSchemaVersion) {
    return Status::Error(
        "model schema version %u, this runtime reads version %u: convert the model again with "
        "the resq-convert of this release",
        version, kSchemaVersion);
  }
  flatbuffers::Verifier verifier(bytes, size);
  if (!schema::VerifySizePrefixedModelBuffer(verifier)) {
    return Status::Error("corrupt resq model: the flatbuffers verifier rejected its %zu bytes", size);
  }
  const schema::Model* model = schema::GetSizePrefixedModel(bytes);
  if (Size(model->tensors()) == 0 || Size(model->nodes()) == 0) return Status::Error("model has no tensors or nodes");
  if (Size(model->inputs()) != 1)
    return Status::Error("model must have exactly one input, has %zu", Size(model->inputs()));
  if (Size(model->outputs()) == 0) return Status::Error("model has no outputs");
  if (model->arena_bytes() > kMaxArenaBytes) {
    return Status::Error("arena of %llu bytes is larger than %llu",
                         static_cast<unsigned long long>(model->arena_bytes()),
                         static_cast<unsigned long long>(kMaxArenaBytes));
  }
  if (model->arena_bytes() % kArenaAlignment != 0) {
    return Status::Error("arena of %llu bytes is not a multiple of %zu",
                         static_cast<unsigned long long>(model->arena_bytes()), kArenaAlignment);
  }
  for (uint32_t t = 0; t < model->tensors()->size(); ++t) {
    if (!model->tensors()->Get(t)->shape()) return Status::Error("tensor %u has no shape", t);
    RESQ_RETURN_IF_ERROR(check::CheckTensor(*model, t));
  }
  std::vector<NodeTensors> node_tensors;
  RESQ_RETURN_IF_ERROR(check::CheckDataflow(*model, &node_tensors));
  for (size_t n = 0; n < model->nodes()->size(); ++n) {
    RESQ_RETURN_IF_ERROR(check::CheckOpRules(*model, n));
  }
  RESQ_RETURN_IF_ERROR(check::CheckMetadata(*model));
  RESQ_RETURN_IF_ERROR(check::CheckMemoryPlan(*model, node_tensors));
  *model_out = model;
  return Status::Ok();
}

}  // namespace resq
