// The N-API face of erasure.c. Two functions, each taking (indices: Uint8Array, cells: Uint8Array
// of blobs * indices.length * 2048 bytes, blobs: number, allCells: boolean):
//   recover(...)      -> Buffer of blobs * (allCells ? 128 : 64) * 2048 bytes
//   recoverAsync(...) -> Promise of the same, computed on the libuv thread pool
// Anything malformed throws (or rejects with) an Error whose `code` is one of
// ERR_CELLAR_NATIVE_ARGUMENTS, ERR_CELLAR_NATIVE_INDICES, ERR_CELLAR_NATIVE_NON_CANONICAL
// (with `blob`, `cell`, `element`) or ERR_CELLAR_NATIVE_MEMORY. Inputs are copied before the
// work starts, so JavaScript may reuse its buffers at once.
#include <napi.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "erasure.h"

namespace {

struct Job {
  std::vector<uint8_t> indices;
  std::vector<uint8_t> cells;
  size_t blobs = 0;
  bool all = false;
  std::vector<uint8_t> out;
  int status = CELLAR_OK;
  size_t bad_blob = 0, bad_cell = 0, bad_element = 0;

  void Run() {
    out.resize(blobs * (all ? CELLAR_CELLS : CELLAR_DATA_CELLS) * CELLAR_CELL_BYTES);
    status = cellar_recover(indices.data(), indices.size(), cells.data(), blobs, all ? 1 : 0, out.data(), &bad_blob,
                            &bad_cell, &bad_element);
  }
};

Napi::Error MakeError(Napi::Env env, const char *code, const std::string &message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// Reads and checks the arguments; on a problem returns false with `err` set.
bool ReadJob(const Napi::CallbackInfo &info, Job &job, Napi::Error &err) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      !info[3].IsBoolean()) {
    err = MakeError(env, "ERR_CELLAR_NATIVE_ARGUMENTS", "expected (indices: Uint8Array, cells: Uint8Array, blobs: number, allCells: boolean)");
    return false;
  }
  Napi::TypedArray ti = info[0].As<Napi::TypedArray>();
  Napi::TypedArray tc = info[1].As<Napi::TypedArray>();
  if (ti.TypedArrayType() != napi_uint8_array || tc.TypedArrayType() != napi_uint8_array) {
    err = MakeError(env, "ERR_CELLAR_NATIVE_ARGUMENTS", "indices and cells must be Uint8Arrays");
    return false;
  }
  double blobs = info[2].As<Napi::Number>().DoubleValue();
  size_t count = ti.ElementLength();
  if (!(blobs >= 0) || blobs > 65536 || blobs != static_cast<double>(static_cast<size_t>(blobs))) {
    err = MakeError(env, "ERR_CELLAR_NATIVE_ARGUMENTS", "blobs must be an integer in 0..65536");
    return false;
  }
  job.blobs = static_cast<size_t>(blobs);
  if (count < CELLAR_DATA_CELLS || count > CELLAR_CELLS) {
    err = MakeError(env, "ERR_CELLAR_NATIVE_INDICES", "between 64 and 128 cell indices are needed");
    return false;
  }
  if (tc.ByteLength() != job.blobs * count * CELLAR_CELL_BYTES) {
    err = MakeError(env, "ERR_CELLAR_NATIVE_ARGUMENTS", "cells must hold blobs * indices.length * 2048 bytes");
    return false;
  }
  const uint8_t *ip = static_cast<const uint8_t *>(ti.ArrayBuffer().Data()) + ti.ByteOffset();
  const uint8_t *cp = static_cast<const uint8_t *>(tc.ArrayBuffer().Data()) + tc.ByteOffset();
  job.indices.assign(ip, ip + count);
  job.cells.assign(cp, cp + tc.ByteLength());
  job.all = info[3].As<Napi::Boolean>().Value();
  return true;
}

Napi::Value Finish(Napi::Env env, Job &job, Napi::Error &err) {
  switch (job.status) {
    case CELLAR_OK:
      return Napi::Buffer<uint8_t>::Copy(env, job.out.data(), job.out.size());
    case CELLAR_NON_CANONICAL: {
      err = MakeError(env, "ERR_CELLAR_NATIVE_NON_CANONICAL", "a field element is not canonical");
      err.Set("blob", Napi::Number::New(env, static_cast<double>(job.bad_blob)));
      err.Set("cell", Napi::Number::New(env, static_cast<double>(job.bad_cell)));
      err.Set("element", Napi::Number::New(env, static_cast<double>(job.bad_element)));
      return Napi::Value();
    }
    case CELLAR_BAD_INDICES:
      err = MakeError(env, "ERR_CELLAR_NATIVE_INDICES", "cell indices must be ascending, unique and below 128");
      return Napi::Value();
    default:
      err = MakeError(env, "ERR_CELLAR_NATIVE_MEMORY", "out of memory");
      return Napi::Value();
  }
}

Napi::Value Recover(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Job job;
  Napi::Error err;
  if (!ReadJob(info, job, err)) {
    err.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  job.Run();
  Napi::Value result = Finish(env, job, err);
  if (result.IsEmpty()) {
    err.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return result;
}

class RecoverWorker : public Napi::AsyncWorker {
 public:
  RecoverWorker(Napi::Env env, Job &&job)
      : Napi::AsyncWorker(env), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { job_.Run(); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Error err;
    Napi::Value result = Finish(env, job_, err);
    if (result.IsEmpty())
      deferred_.Reject(err.Value());
    else
      deferred_.Resolve(result);
  }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value RecoverAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Job job;
  Napi::Error err;
  if (!ReadJob(info, job, err)) {
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(err.Value());
    return deferred.Promise();
  }
  RecoverWorker *worker = new RecoverWorker(env, std::move(job));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Worker threads load the module again; the tables are built once per process.
  static std::once_flag once;
  std::call_once(once, cellar_erasure_init);
  exports.Set("recover", Napi::Function::New(env, Recover));
  exports.Set("recoverAsync", Napi::Function::New(env, RecoverAsync));
  return exports;
}

}  // namespace

NODE_API_MODULE(cellar_native, Init)
