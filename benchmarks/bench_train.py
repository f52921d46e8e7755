"""How fast does each course model train on this machine, and how close is that to the hardware?

Images per second alone cannot tell a slow model from a slow *implementation*: a U-Net does
~20x the arithmetic of the baseline CNN per image, so it is bound to be slower. This script
therefore measures three things and relates them:

1. **Peak**: the GFLOP/s TensorFlow reaches on a large float32 matrix multiply (2048^3, the
   best case for a CPU: one well-tuned kernel, data reused from cache). No model can beat it.
2. **Work**: each model's forward FLOPs per image, counted from its layers (convolutions,
   transposed convolutions and dense layers, which are >99 % of the arithmetic; batch norm,
   ReLU, pooling and the optimiser's element-wise updates are left out). A training step costs
   about 3x the forward pass (forward + gradient w.r.t. inputs + gradient w.r.t. weights).
3. **Speed**: training images/s from ``model.fit`` on one in-memory batch repeated by tf.data,
   with ``steps_per_execution`` so that many steps run inside one compiled loop: what is timed
   is the model, not Python, JPEG decoding or augmentation.

achieved GFLOP/s = 3 x forward FLOPs x images/s, and its fraction of the peak says how well
TensorFlow's kernels use the CPU on this model's layer shapes (thin layers, 1-channel inputs and
small spatial sizes are memory-bound, far below a big matmul). On a shared machine images/s can
halve while a neighbour runs; frac_peak, paired with a matmul timed around each epoch, barely
moves (see :func:`train_speed`), so it is the number to compare between runs.

``--threads-sweep`` then varies what can be tuned without touching the model - thread pools,
XLA (``jit_compile``), oneDNN - plus the U-Net's width and batch size. Thread pools can only be
set before TensorFlow runs its first op and oneDNN only before it is imported, so each setting
runs in its own subprocess. Measured on the course's 2-core Xeon (TF 2.21, U-Net 16 filters,
batch 16, ~40 img/s, ~51 % of peak): TensorFlow's default threads are already the best (2 x 1
pools the same, 1 thread halves the speed, 4 oversubscribes: -12 %); jit_compile=True is ~35 %
slower and oneDNN off ~50 % slower (XLA and the non-oneDNN path use Eigen's convolutions).
Width is what moves the fraction: 8/16/24/32 base filters reach 29/51/60/67 %; batch 4-32
only 47-51 %.

    python benchmarks/bench_train.py [--quick] [--only LABEL] [--threads-sweep]

Writes reports/bench/train_bench.csv + machine.json (and threads_sweep.csv).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "reports" / "bench"


@dataclass(frozen=True)
class ModelSpec:
    label: str
    builder: str
    params: dict = field(default_factory=dict)
    crop: int = 128
    batch: int = 16


# The models as the lessons train them (64-pixel crops of photos shrunk to 96 px, batch 16),
# plus the U-Net at 128 px to show how the fraction of peak grows with bigger feature maps.
MODELS = [
    ModelSpec("seed000_baseline", "seed000_baseline", {"filters": 32}, crop=64),
    ModelSpec("seed001_rgb_baseline", "seed001_rgb_baseline", {"filters": 64}, crop=64),
    ModelSpec("updated_cnn", "updated_cnn", {"width": 8}, crop=64),
    ModelSpec("seed000_autoencoder", "seed000_autoencoder", {"size": 64}, crop=64),
    ModelSpec("polychromify_conv_dense", "polychromify", {"variant": "conv_dense", "size": 64}, crop=64),
    ModelSpec("unet_f16", "unet", {"base_filters": 16, "depth": 4}, crop=64),
    ModelSpec("unet_f16_128px", "unet", {"base_filters": 16, "depth": 4}, crop=128),
    ModelSpec("pix2pix_gan", "pix2pix", {"base_filters": 16, "depth": 4, "disc_filters": 32}, crop=64),
]

# Seconds of training per timed epoch, and timed epochs (after one warm-up epoch that traces,
# compiles and touches all memory).
BUDGET = {"default": (2.0, 6), "quick": (0.5, 3)}
SWEEP_BUDGET = (1.5, 4)  # per setting and round; the sweep runs ~20 of them
# Only used to pick how many steps fill BUDGET seconds; it does not enter any result.
GUESSED_EFFICIENCY = 0.3


@functools.cache
def _matrices(n: int, dtype: str = "float32"):
    import tensorflow as tf

    return tuple(tf.cast(tf.random.normal((n, n)), dtype) for _ in range(2))


def matmul_peak(n: int = 2048, runs: int = 5, dtype: str = "float32") -> float:
    """Median GFLOP/s of an n x n matmul in ``dtype`` (2 n^3 FLOPs), after one warm-up run."""
    import numpy as np
    import tensorflow as tf

    a, b = _matrices(n, dtype)
    tf.linalg.matmul(a, b).numpy()  # .numpy() waits for the result: TF ops may run asynchronously
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()  # eager is fine: ~25 ms of work against µs of dispatch
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times)) / 1e9


def forward_flops(model, crop: int) -> int:
    """Forward FLOPs per image of the conv / transposed-conv / dense layers at crop x crop.

    Fully convolutional models are built for any H x W, so the model is cloned on a fixed-size
    input to give every layer concrete shapes. A multiply-add counts as 2 FLOPs.
    """
    import keras
    import numpy as np

    inputs = [keras.Input((crop, crop, tensor.shape[-1])) for tensor in model.inputs]
    fixed = keras.models.clone_model(model, input_tensors=inputs if len(inputs) > 1 else inputs[0])
    total = 0
    for layer in fixed.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):  # before Conv2D: it is a subclass
            _, h, w, c_in = layer.input.shape  # each *input* pixel scatters a k x k x Cout patch
            total += 2 * int(np.prod(layer.kernel_size)) * c_in * layer.filters * h * w
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1] // layer.groups
            total += 2 * int(np.prod(layer.kernel_size)) * c_in * c_out * h * w
        elif isinstance(layer, keras.layers.Dense):
            positions = int(np.prod(layer.input.shape[1:-1]))  # 1 after Flatten
            total += 2 * layer.input.shape[-1] * layer.units * positions
    return total


def profiler_flops(model, crop: int) -> int:
    """The same count from TensorFlow's own op statistics on the traced forward graph.

    Kept as a cross-check (run once, not by default): for all six MODELS the two counts agree
    exactly (e.g. unet_f16 at 128 px: 1591.2 MFLOP of Conv2D + Conv2DBackpropInput, TF's name for
    a transposed conv, + MatMul). The profiler's full total adds ~6 MFLOP of batch norm, bias
    and pooling there, so leaving those out understates the work by < 0.4 %.
    """
    import tensorflow as tf
    from tensorflow.python.framework import ops

    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, crop, crop, 1])).graph
    total = 0
    for op in graph.get_operations():
        if op.type in ("Conv2D", "Conv2DBackpropInput", "MatMul"):
            total += ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
    return total


def train_speed(spec: ModelSpec, *, budget: tuple[float, int], jit: bool = False,
                policy: str = "float32") -> dict:
    """Build, compile and time ``spec``, measuring the matmul peak before every epoch.

    The CPU may be shared (here: with another developer's tests), and a busy neighbour can
    halve any timing for a while. So images/s and peak are each their *best* repeat
    (interference only ever slows code down: the fastest repeat is the least disturbed one, as
    Python's timeit advises), and the fraction of peak is the median over epochs of the epoch's
    GFLOP/s over the matmul measured right before and after it - a ratio of two measurements
    that saw the same neighbours.

    ``policy``: the Keras dtype policy the model is built and trained in; under a mixed policy the
    peak is the matmul in its compute dtype (bfloat16 / float16), the hardware's best case there.
    """
    import keras
    import tensorflow as tf

    from colorize import precision
    from colorize.models import build

    tf.get_logger().setLevel("ERROR")  # each model's new train function looks like "retracing"
    keras.utils.set_random_seed(0)
    peak = functools.partial(matmul_peak, dtype=keras.DTypePolicy(policy).compute_dtype)
    with precision.policy(policy):
        model = build(spec.builder, **spec.params)
        return _timed_fit(spec, model, budget, jit, peak, policy)


def _timed_fit(spec: ModelSpec, model, budget: tuple[float, int], jit: bool, peak, policy: str) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from colorize.models import predictor

    gan = predictor(model) is not model
    # A GAN step runs G once and D twice (real and fake) forward; counting 3x forward for all of
    # it slightly understates the work (D's backward pass on the fake runs for both losses).
    fwd = forward_flops(model.generator, spec.crop) + 2 * forward_flops(model.discriminator, spec.crop) \
        if gan else forward_flops(model, spec.crop)
    seconds, epochs = budget
    guess = 3 * fwd * spec.batch / (GUESSED_EFFICIENCY * peak() * 1e9)  # seconds per step
    steps = int(np.clip(round(seconds / guess), 2, 200))
    if gan:
        model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                      d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=jit, steps_per_execution=steps)
    else:
        model.compile(optimizer="adam", loss="mse", jit_compile=jit, steps_per_execution=steps)

    x = tf.random.uniform((spec.batch, spec.crop, spec.crop, 1), -1, 1)
    y = tf.random.uniform((spec.batch, spec.crop, spec.crop, predictor(model).output_shape[-1]), -1, 1)
    data = tf.data.Dataset.from_tensors((x, y)).repeat()  # the same tensors every step: no input cost

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times, self.peaks = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.peaks.append(peak())
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # logs hold the loss: the epoch's work is done
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(data, epochs=1 + epochs, steps_per_epoch=steps, verbose=0, callbacks=[timer], shuffle=False)
    timer.peaks.append(peak())
    times, peaks = np.array(timer.times[1:]), np.array(timer.peaks[1:])
    epoch_gflops = 3 * fwd * steps * spec.batch / times / 1e9
    images_per_s = steps * spec.batch / times.min()
    achieved = 3 * fwd * images_per_s / 1e9
    return {"model": spec.label, "precision": policy, "crop": spec.crop, "batch": spec.batch,
            "params": model.count_params(),
            "fwd_MFLOP/img": round(fwd / 1e6, 1), "train_img/s": round(images_per_s, 1),
            # how disturbed the run was: 1.0 on a quiet machine, 2 if a neighbour took half the CPU
            "epoch_max/min": round(times.max() / times.min(), 2),
            "GFLOP/s": round(achieved, 1), "peak_GFLOP/s": round(peaks.max(), 1),
            "frac_peak": round(float(np.median(epoch_gflops / ((peaks[:-1] + peaks[1:]) / 2))), 3),
            "warmup_s": round(timer.times[0], 1), "steps/epoch": steps}


def cpu_model() -> str:
    """The processor's name (Linux), so figures from different machines are never mixed up."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.machine()


def machine_info(peaks: list[float]) -> dict:
    import keras
    import tensorflow as tf

    return {"matmul_peak_GFLOP/s": round(max(peaks), 1), "matmul_peaks_seen": [round(p, 1) for p in peaks],
            "cpu": cpu_model(), "cpu_count": os.cpu_count(),
            "tf": tf.__version__, "keras": keras.__version__,
            # 0 means "TensorFlow decides" (one thread per core for each pool)
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (on for x86 builds)"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset")}


def run_benchmark(specs: list[ModelSpec], budget: tuple[float, int]) -> None:
    import pandas as pd

    rows, mixed = [], []
    for spec in specs:
        rows.append(train_speed(spec, budget=budget))
        mixed.append(train_speed(spec, budget=budget, policy="mixed_bfloat16"))
        print(f"  {spec.label}: {rows[-1]['train_img/s']} img/s in float32, {mixed[-1]['train_img/s']} in "
              f"mixed bfloat16", flush=True)
    write_precision_table(rows, mixed)
    table = pd.DataFrame(rows).drop(columns="precision").set_index("model")
    print(f"matmul peak (float32 2048^3, best of all measurements): {table['peak_GFLOP/s'].max()} GFLOP/s")
    print(table.to_string())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT_DIR / "train_bench.csv")
    (OUT_DIR / "machine.json").write_text(json.dumps(machine_info(list(table["peak_GFLOP/s"])), indent=2) + "\n")
    print(f"wrote {OUT_DIR.relative_to(ROOT)}/train_bench.csv and machine.json")


def write_precision_table(float32_rows: list[dict], mixed_rows: list[dict]) -> None:
    """reports/bench/precision.csv: each model in both precisions, timed one after the other in
    this run, with the bfloat16 speed-up as a ratio (the number to compare between machines: on a
    CPU without AMX it is near or below 1, which is why colorize.precision's "auto" keeps float32
    there)."""
    import pandas as pd

    table = pd.DataFrame([{"model": row["model"], "precision": row["precision"],
                           "images_per_second": row["train_img/s"], "fraction_of_peak": row["frac_peak"],
                           "peak_GFLOP/s": row["peak_GFLOP/s"],
                           "speedup_over_float32": round(row["train_img/s"] / reference["train_img/s"], 2)}
                          for reference, mixed in zip(float32_rows, mixed_rows, strict=True)
                          for row in (reference, mixed)])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT_DIR / "precision.csv", index=False)
    print(table.to_string(index=False))
    print(f"wrote {OUT_DIR.relative_to(ROOT)}/precision.csv")


# --- threads sweep ------------------------------------------------------------------------

def worker(config: dict) -> None:
    """One subprocess: set the thread pools before any op, then time each job."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(config["intra"])
    tf.config.threading.set_inter_op_parallelism_threads(config["inter"])
    for job in config["jobs"]:
        row = train_speed(ModelSpec(**job["spec"]), budget=tuple(config["budget"]), jit=job["jit"])
        print("RESULT " + json.dumps({"setting": config["name"], "jit": job["jit"], **row}),
              flush=True)


def run_config(name: str, jobs: list[dict], budget, *, intra=0, inter=0, env=None) -> list[dict]:
    config = {"name": name, "intra": intra, "inter": inter, "jobs": jobs, "budget": budget}
    print(f"  {name}: {len(jobs)} job(s) ...", flush=True)
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(config)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    rows = [json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or len(rows) != len(jobs):
        print(done.stderr[-2000:])
        raise SystemExit(f"{name} failed")
    return rows


def threads_sweep(budget: tuple[float, int], rounds: int) -> None:
    import pandas as pd

    def job(jit=False, filters=16, batch=16):
        spec = {"label": f"unet_f{filters}", "builder": "unet", "params": {"base_filters": filters, "depth": 4}}
        return {"spec": {**spec, "batch": batch}, "jit": jit}

    # TensorFlow's default (0 = "decide") gives each pool one thread per core, i.e. 2 x 2 here;
    # 1 x 1 is the serial floor and 4 x 1 oversubscribes the cores. oneDNN (Intel's kernels, on by
    # default on x86) must be switched off before TensorFlow is imported, hence the environment.
    settings = [("default", {}, False), ("intra2_inter1", {"intra": 2, "inter": 1}, False),
                ("intra1_inter1", {"intra": 1, "inter": 1}, False), ("intra4_inter1", {"intra": 4, "inter": 1}, False),
                ("default", {}, True), ("onednn_off", {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}}, False),
                ("onednn_off", {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}}, True)]
    rows = []
    # Whole rounds, not one setting repeated: a neighbour's burst then hits every setting alike.
    for _ in range(rounds):
        for name, kwargs, jit in settings:
            rows += run_config(name, [job(jit=jit)], budget, **kwargs)
    # Width and batch share one process (default threads), so frac_peak compares them directly:
    # wider layers and bigger batches hand the kernels bigger matrices, as the matmul peak has.
    rows += run_config("default", [job(filters=f) for f in (8, 16, 24, 32)]
                       + [job(batch=b) for b in (4, 8, 32)], budget)
    raw = pd.DataFrame(rows)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw.to_csv(OUT_DIR / "threads_sweep.csv", index=False)
    # Best images/s over rounds chooses a setting (interference only slows things down). frac_peak
    # is paired with a matmul *under the same settings*, so it compares jit, width and batch, but
    # flatters settings that also slow the matmul (1 thread, oneDNN off) - judge those by img/s.
    table = raw.groupby(["setting", "jit", "model", "batch"], sort=False).agg(
        **{"train_img/s": ("train_img/s", "max"), "img/s_each_run": ("train_img/s", list),
           "GFLOP/s": ("GFLOP/s", "max"), "peak_GFLOP/s": ("peak_GFLOP/s", "max"),
           "frac_peak": ("frac_peak", "median"), "warmup_s": ("warmup_s", "median")}).reset_index()
    print(table.to_string(index=False))
    same = table[(table.model == "unet_f16") & (table.batch == 16)]
    best = same.loc[same["train_img/s"].idxmax()]
    print(f"fastest unet_f16 (batch 16) setting: {best.setting} jit={best.jit} "
          f"({best['train_img/s']} img/s, {best.frac_peak:.0%} of its peak)")
    best = table.loc[table.frac_peak.idxmax()]
    print(f"highest fraction of peak: {best.model} batch {best.batch} {best.setting} jit={best.jit} "
          f"({best.frac_peak:.0%}, {best['GFLOP/s']} GFLOP/s)")
    print(f"wrote {OUT_DIR.relative_to(ROOT)}/threads_sweep.csv (every run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short timings, for a sanity run")
    parser.add_argument("--only", metavar="LABEL", help=f"one model: {', '.join(s.label for s in MODELS)}")
    parser.add_argument("--threads-sweep", action="store_true", help="compare threads, XLA, oneDNN, width, batch")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    budget = BUDGET["quick" if args.quick else "default"]
    if args.worker:
        return worker(json.loads(args.worker))
    if args.threads_sweep:
        return threads_sweep(*((BUDGET["quick"], 1) if args.quick else (SWEEP_BUDGET, 2)))
    specs = [s for s in MODELS if args.only in (None, s.label)]
    if not specs:
        parser.error(f"no model labelled {args.only!r}")
    run_benchmark(specs, budget)


if __name__ == "__main__":
    main()
