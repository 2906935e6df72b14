"""Score the detected sites of one sample against its ground truth.

Inputs: ``sites`` (detections), ``maps`` (for the image size), ``truth`` (Parquet: kind, x,
y [Å]). Output: ``scores`` (Parquet: precision, recall, F1, localisation error per frame and
kind). Config: ``evaluation``.
"""

from atomscope.logs import configure_logging
from atomscope.steps import evaluate

if __name__ == "__main__":
    configure_logging(snakemake.log[0])  # noqa: F821
    evaluate(snakemake.input, snakemake.input.truth, snakemake.output, snakemake.params.evaluation, snakemake.wildcards.sample)
