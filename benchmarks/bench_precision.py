"""Does training in mixed bfloat16 change what the U-Net learns, or only how fast?

Lesson 05's run-to-run recipe (the U-Net, learning rate 1e-3 cosine-decayed over 10 epochs, full
profile, BSDS500)
is trained for each of the course's spread seeds in float32 and in mixed bfloat16, in this run,
on this machine. For each precision: mean best validation loss and mean test PSNR over the seeds
and their run-to-run spread (standard deviation over seeds); then the difference between the two
precisions, called *within noise* when it is smaller than the larger of the two spreads, and the
training speed-up (images/s of the training loops). On a machine where ``precision="auto"`` is
float32 anyway (no AMX), the bfloat16 runs are still trained, so the comparison stands anywhere.

Runs are kept in the course's ``models/`` (``$COLORIZE_HOME``), so after ``make all`` on an AMX
machine the bfloat16 runs are lesson 05's own and only the float32 ones are trained here.

    python benchmarks/bench_precision.py [--data-dir DIR] [--seeds N]

Writes reports/bench/precision_quality.csv.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "reports" / "bench"
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "bsds500"
PRECISIONS = ("float32", "mixed_bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="a BSDS500 copy (train/ val/ test/)")
    parser.add_argument("--seeds", type=int, default=None, help="how many of the course's spread seeds (default all)")
    args = parser.parse_args()

    import pandas as pd

    from colorize import config, evaluation, train
    from colorize.config import ColorizeError
    from colorize.data import sources
    from colorize.intervals import seed_spread

    try:
        dataset = sources.bsds500_dataset(args.data_dir, allow_download=False)
    except ColorizeError as error:  # make bench goes on to the next benchmark
        print(f"bench_precision: skipped, it needs BSDS500 ({error})")
        return
    profile = config.get_profile("full")
    seeds = config.SPREAD_SEEDS[: args.seeds] if args.seeds else config.SPREAD_SEEDS
    recipes = {name: train.settings_for(profile, "unet", model_params={"base_filters": 16, "depth": 4},
                                        learning_rate=1e-3, schedule="cosine", epochs=10,
                                        precision=name) for name in PRECISIONS}
    runs = train.train_seeds(dataset, recipes, seeds, profile=profile)
    per_seed = evaluation.seed_spreads(runs, dataset.paths("test"), progress=False)
    speeds = {name: [run.record["images_per_second"] for run in by_seed.values()] for name, by_seed in runs.items()}
    rows = []
    for name in PRECISIONS:
        scores = per_seed.loc[name]
        rows.append({"precision": name, "seeds": len(scores),
                     "best_val_loss_mean": scores.best_val_loss.mean(),
                     "best_val_loss_spread": seed_spread(scores.best_val_loss),
                     "psnr_mean": scores.psnr.mean(), "psnr_spread": seed_spread(scores.psnr),
                     "train_images_per_second": float(pd.Series(speeds[name]).median())})
    table = pd.DataFrame(rows).set_index("precision")
    fp32, bf16 = table.loc["float32"], table.loc["mixed_bfloat16"]
    for score in ("best_val_loss", "psnr"):
        difference = bf16[f"{score}_mean"] - fp32[f"{score}_mean"]
        noise = max(fp32[f"{score}_spread"], bf16[f"{score}_spread"])
        table.loc["mixed_bfloat16", f"{score}_difference"] = difference
        table.loc["mixed_bfloat16", f"{score}_within_noise"] = bool(abs(difference) <= noise)
        print(f"{score}: bfloat16 - float32 = {difference:+.5f}; run-to-run spread up to {noise:.5f} -> "
              + ("within noise" if abs(difference) <= noise else "BEYOND noise"))
    table.loc["mixed_bfloat16", "speedup"] = bf16.train_images_per_second / fp32.train_images_per_second
    print(f"training speed-up of bfloat16 (median images/s over seeds): "
          f"{table.loc['mixed_bfloat16', 'speedup']:.2f}x")
    print(table.round(5).to_string())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table.round(6).to_csv(OUT_DIR / "precision_quality.csv")
    print(f"wrote {OUT_DIR.relative_to(ROOT)}/precision_quality.csv")


if __name__ == "__main__":
    main()
