"""``python -m colorize.data [DATASET] [--data-dir DIR]``: get the data ``make all`` will use.

Prints one line saying which dataset was chosen and how many photos each split has; a user
mistake (wrong folder, unknown name) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from colorize.config import ColorizeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize.data", description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default="auto", help="auto | sample | bsds500 | folder:PATH")
    parser.add_argument("--data-dir", default="", help="a local BSDS500 copy with train/ val/ test/")
    parser.add_argument("--profile", default="full", help="smoke | full")
    args = parser.parse_args(argv)
    from colorize.data.sources import load_dataset

    try:
        dataset = load_dataset(args.dataset, data_dir=args.data_dir or None, profile=args.profile)
    except ColorizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(dataset.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
