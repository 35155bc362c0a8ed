// One ONNX Runtime (onnxruntime-node, CPU) session in its own process, driven by compare.py over
// stdin/stdout, one JSON object per line each way:
//   -> {"op": "predict", "input": "x.npy"}        <- {"output": [[...], ...]}  (float32 NCHW, one row per input)
//   -> {"op": "time", "warmup": W, "runs": R}     <- {"ms": [...]}             (R latencies after W runs)
//   -> {"op": "rss"}                              <- {"peak_rss_bytes": N}     (VmHWM of this process)
//   -> {"op": "quit"}
// Usage: node ort_worker.js NODE_MODULES_DIR MODEL.onnx THREADS [OPTIMIZED_MODEL_OUT.onnx]
// OPTIMIZED_MODEL_OUT gets the graph ONNX Runtime runs after its fusions (QDQ -> QLinearConv, ...).
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const [nodeModules, modelPath, threadsArg, optimizedOut] = process.argv.slice(2);
const ort = require(path.join(nodeModules, 'onnxruntime-node'));
const threads = Number(threadsArg);

// A float32 little-endian C-order .npy: returns {shape, data}.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: expected float32 little-endian C order, header ${header.trim()}`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const bytes = buf.subarray(start);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return {shape, data};
}

function peakRssBytes() {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function main() {
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,  // errors only: saving the optimized model warns that it is hardware specific
  };
  if (optimizedOut) options.optimizedModelFilePath = optimizedOut;
  const session = await ort.InferenceSession.create(modelPath, options);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const run = async (data, shape) => {
    const outputs = await session.run({[inputName]: new ort.Tensor('float32', data, shape)});
    return outputs[outputName];
  };

  // The timed input: fixed pseudo-random values (the kernels' speed does not depend on them).
  const timedShape = [1, 3, 224, 224];
  const timed = new Float32Array(3 * 224 * 224);
  let seed = 1;
  for (let i = 0; i < timed.length; ++i) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    timed[i] = (seed / 2147483648) * 3 - 1.5;
  }

  const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
  reply({ready: true, onnxruntime: ort.env.versions.node || ort.env.versions.common, node: process.version});
  const lines = readline.createInterface({input: process.stdin});
  for await (const line of lines) {
    const cmd = JSON.parse(line);
    if (cmd.op === 'predict') {
      const {shape, data} = readNpy(cmd.input);
      const per = data.length / shape[0];
      const rows = [];
      for (let n = 0; n < shape[0]; ++n) {
        const out = await run(data.subarray(n * per, (n + 1) * per), [1, ...shape.slice(1)]);
        rows.push(Array.from(out.data));
      }
      reply({output: rows});
    } else if (cmd.op === 'time') {
      for (let i = 0; i < cmd.warmup; ++i) await run(timed, timedShape);
      const ms = [];
      for (let i = 0; i < cmd.runs; ++i) {
        const begin = process.hrtime.bigint();
        await run(timed, timedShape);
        ms.push(Number(process.hrtime.bigint() - begin) / 1e6);
      }
      reply({ms});
    } else if (cmd.op === 'rss') {
      reply({peak_rss_bytes: peakRssBytes()});
    } else if (cmd.op === 'quit') {
      break;
    } else {
      throw new Error(`unknown command ${line}`);
    }
  }
  await session.release();
}

main().catch((e) => {
  process.stderr.write(`ort_worker: ${e.stack || e}\n`);
  process.exit(1);
});
